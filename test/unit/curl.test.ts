import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { curlCommand, headerLine } from '../../src/vscode/curl';

const intercept = { claim: { header: 'x-intercept-id', value: 'ana-4f2c' }, namespace: 'shop', service: 'cart', port: 80 };

describe('curl commands for an intercept', () => {
  it('sends the header to the Service by its cluster name', () => {
    assert.equal(headerLine(intercept), 'x-intercept-id: ana-4f2c');
    assert.equal(curlCommand(intercept), `curl -H 'x-intercept-id: ana-4f2c' 'http://cart.shop:80/'`);
  });

  it('repeats a logged request: its method and path', () => {
    assert.equal(curlCommand(intercept, 'POST', '/orders/42'), `curl -X POST -H 'x-intercept-id: ana-4f2c' 'http://cart.shop:80/orders/42'`);
  });

  it('quotes what a shell would otherwise read', () => {
    const odd = { ...intercept, claim: { header: 'x-intercept-id', value: "it's$HOME" } };
    assert.equal(curlCommand(odd), `curl -H 'x-intercept-id: it'\\''s$HOME' 'http://cart.shop:80/'`);
  });
});
