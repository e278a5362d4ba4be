// The pure parts of outbound streams: the CONNECT authority, whether a request already carries the
// developer's claim, and the proxy environment given to the program.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDestination, parseDestination } from '../../src/protocol/destination';
import { carriesClaim, proxyEnvironment } from '../../src/core/outbound/propagation';

describe('outbound destination', () => {
  it('reads host:port, with IPv6 in brackets', () => {
    assert.deepEqual(parseDestination('orders.shop.svc.cluster.local:8080'), { host: 'orders.shop.svc.cluster.local', port: 8080 });
    assert.deepEqual(parseDestination('10.0.0.7:5432'), { host: '10.0.0.7', port: 5432 });
    assert.deepEqual(parseDestination('[::1]:6379'), { host: '::1', port: 6379 });
  });

  it('refuses what is not host:port', () => {
    for (const bad of [undefined, '', 'host', 'host:', ':80', 'host:0', 'host:65536', 'host:80x', 'user@host:80', 'host/path:80', '::1:80', '[nothost]:80', 'a b:80', 'local:8080\r\nx:1']) {
      assert.equal(parseDestination(bad), undefined, String(bad));
    }
  });

  it('writes what it reads', () => {
    assert.equal(formatDestination('::1', 6379), '[::1]:6379');
    assert.equal(formatDestination('redis', 6379), 'redis:6379');
  });
});

describe('header propagation', () => {
  it('sees the claimed header in any case, or a baggage member of that name', () => {
    assert.equal(carriesClaim(['Host', 'x', 'X-Intercept-Id', 'bob-1'], 'x-intercept-id'), true);
    assert.equal(carriesClaim(['baggage', 'a=b, x-intercept-id=ana-1'], 'x-intercept-id'), true);
    assert.equal(carriesClaim(['baggage', 'x-intercept-idx=1', 'x-intercept-ids', '2'], 'x-intercept-id'), false);
    assert.equal(carriesClaim([], 'x-intercept-id'), false);
  });

  it('names the proxy for the runtimes that read either case, and keeps loopback away from it', () => {
    const env = proxyEnvironment(3128, ['.internal']);
    assert.equal(env.HTTP_PROXY, 'http://127.0.0.1:3128');
    assert.equal(env.https_proxy, 'http://127.0.0.1:3128');
    assert.equal(env.NO_PROXY, 'localhost,127.0.0.1,::1,.internal');
    assert.equal(env.no_proxy, env.NO_PROXY);
    assert.equal(env.NODE_USE_ENV_PROXY, '1', 'Node reads the variables only when told to');
  });
});
