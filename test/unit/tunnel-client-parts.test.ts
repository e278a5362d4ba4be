import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/core/tunnel/backoff';
import { failureFromRefusal, TunnelError } from '../../src/core/tunnel/errors';
import { ExchangeObserver, type InterceptedRequest } from '../../src/core/tunnel/exchange-observer';
import { checkClaim } from '../../src/protocol/claim';

describe('backoff', () => {
  it('doubles up to the maximum, with bounded jitter', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0 };
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, opts)), [100, 200, 400, 800, 1000, 1000]);
    const jittered = backoffDelay(3, { initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0);
    assert.equal(jittered, 400);
  });
});

describe('refusals become typed failures', () => {
  it('names the holder of a held claim', () => {
    const f = failureFromRefusal(409, JSON.stringify({ error: 'claim-held', message: 'held by ana', holder: { developer: 'ana', since: '2026-01-01T00:00:00Z' } }));
    assert.deepEqual(f, { kind: 'claim-held', message: 'held by ana', holder: { developer: 'ana', since: '2026-01-01T00:00:00Z' } });
    assert.equal(new TunnelError(f).final, true);
  });

  it('reads version mismatches and bad claims, and survives non-JSON answers', () => {
    assert.equal(failureFromRefusal(426, JSON.stringify({ message: 'm', supported: [1] })).kind, 'version-mismatch');
    assert.equal(failureFromRefusal(400, JSON.stringify({ message: 'm', field: 'value' })).kind, 'bad-claim');
    const odd = failureFromRefusal(404, '<html>nope</html>');
    assert.equal(odd.kind, 'unexpected');
    assert.match(odd.message, /404/);
  });
});

describe('claim validation', () => {
  it('refuses reserved headers, spaces and control characters', () => {
    assert.equal(checkClaim('x-intercept-id', 'ana-4f2c'), undefined);
    assert.equal(checkClaim('Cookie', 'x')?.field, 'header');
    assert.equal(checkClaim('x id', 'x')?.field, 'header');
    assert.equal(checkClaim('x-intercept-id', 'a b')?.field, 'value');
    assert.equal(checkClaim('x-intercept-id', 'a\r\nb')?.field, 'value');
    assert.equal(checkClaim('x-intercept-id', '')?.field, 'value');
  });
});

describe('exchange observer', () => {
  it('reports each request of a keep-alive connection with status, duration and bytes', () => {
    let now = 1000;
    const seen: InterceptedRequest[] = [];
    const o = new ExchangeObserver((r) => seen.push(r), () => now);
    const r1 = 'POST /a?secret=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello';
    o.request(Buffer.from(r1.slice(0, 10)));
    o.request(Buffer.from(r1.slice(10)));
    now = 1012;
    const s1 = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    o.response(Buffer.from(s1));
    const r2 = 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n';
    const s2 = 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
    o.request(Buffer.from(r2));
    now = 1020;
    o.response(Buffer.from(s2));
    assert.deepEqual(seen, [
      { time: 1000, method: 'POST', path: '/a', status: 201, durationMs: 12, bytesIn: r1.length, bytesOut: s1.length },
      { time: 1012, method: 'GET', path: '/b', status: 404, durationMs: 8, bytesIn: r2.length, bytesOut: s2.length },
    ]);
  });

  it('reports a close-delimited response when the program closes, and stops at an upgrade', () => {
    const seen: InterceptedRequest[] = [];
    const o = new ExchangeObserver((r) => seen.push(r));
    o.request(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    o.response(Buffer.from('HTTP/1.1 200 OK\r\n\r\nstreamed until close'));
    assert.equal(seen.length, 0);
    o.responseEnded();
    assert.equal(seen[0]?.status, 200);

    const ws: InterceptedRequest[] = [];
    const u = new ExchangeObserver((r) => ws.push(r));
    u.request(Buffer.from('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    u.response(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi'));
    u.request(Buffer.from('\x81\x82garbage frames'));
    assert.equal(ws.length, 1);
    assert.equal(ws[0]?.status, 101);
  });

  it('stops quietly on bytes that are not HTTP', () => {
    const seen: InterceptedRequest[] = [];
    const o = new ExchangeObserver((r) => seen.push(r));
    o.request(Buffer.from('\x16\x03\x01 not http\r\n\r\n'));
    o.response(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    assert.deepEqual(seen, []);
  });
});
