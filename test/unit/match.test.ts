import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchClaim, type ClaimTable } from '../../proxy-image/src/match';

const table: ClaimTable<string> = new Map([
  ['x-intercept-id', new Map([['ana-4f2c', 'ana'], ['bo 1', 'bo']])],
  ['x-tenant', new Map([['t1', 'carl']])],
]);
const h = (pairs: Array<[string, string]>) => pairs.map(([name, value]) => ({ name, value }));

describe('claim matching', () => {
  it('matches the header value exactly', () => {
    assert.equal(matchClaim(table, h([['x-intercept-id', 'ana-4f2c']])), 'ana');
    assert.equal(matchClaim(table, h([['x-intercept-id', 'ana-4f2C']])), undefined);
    assert.equal(matchClaim(table, h([['x-intercept-id', 'ana']])), undefined);
    assert.equal(matchClaim(table, h([['host', 'ana-4f2c']])), undefined);
  });

  it('takes the first matching header in request order', () => {
    assert.equal(matchClaim(table, h([['x-tenant', 't1'], ['x-intercept-id', 'ana-4f2c']])), 'carl');
  });

  it('matches a baggage member with the same key and value, percent-decoded', () => {
    assert.equal(matchClaim(table, h([['baggage', 'a=1,x-intercept-id=ana-4f2c;prop=x']])), 'ana');
    assert.equal(matchClaim(table, h([['baggage', ' X-Intercept-Id = ana-4f2c ']])), 'ana');
    assert.equal(matchClaim(table, h([['baggage', 'x-intercept-id=bo%201']])), 'bo');
    assert.equal(matchClaim(table, h([['baggage', 'x-intercept-id=ana-4f2cX']])), undefined);
    assert.equal(matchClaim(table, h([['baggage', 'x-intercept-id']])), undefined);
    assert.equal(matchClaim(table, h([['baggage', 'x-intercept-id=%E0%A4%A']])), undefined, 'malformed encoding never throws');
  });

  it('prefers a direct header over baggage', () => {
    assert.equal(matchClaim(table, h([['baggage', 'x-tenant=t1'], ['x-intercept-id', 'ana-4f2c']])), 'ana');
  });
});
