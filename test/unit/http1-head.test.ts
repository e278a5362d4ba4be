import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd, HeadScanner, HttpParseError, parseRequestHead, parseResponseHead } from '../../src/protocol/http1/head';

const req = (text: string) => {
  const buf = Buffer.from(text, 'latin1');
  return parseRequestHead(buf, 0, findHeadEnd(buf, 0, 400));
};
const res = (text: string, method = 'GET') => {
  const buf = Buffer.from(text, 'latin1');
  return parseResponseHead(buf, 0, findHeadEnd(buf, 0, 502), method);
};
const status = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpParseError) return err.status;
    throw err;
  }
  return 0;
};

describe('request heads', () => {
  it('parses method, target, version and lower-cases header names', () => {
    const h = req('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Intercept-ID:  ana-4f2c \r\n\r\n');
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a?b=1');
    assert.equal(h.minorVersion, 1);
    assert.deepEqual(h.headers, [{ name: 'host', value: 'x' }, { name: 'x-intercept-id', value: 'ana-4f2c' }]);
    assert.deepEqual(h.framing, { kind: 'none' });
    assert.equal(h.keepAlive, true);
    assert.equal(h.wantsTunnel, false);
  });

  it('finds the body framing', () => {
    assert.deepEqual(req('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n').framing, { kind: 'length', length: 12 });
    assert.deepEqual(req('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n').framing, { kind: 'length', length: 5 });
    assert.deepEqual(req('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n').framing, { kind: 'chunked' });
    assert.deepEqual(req('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n').framing, { kind: 'none' });
  });

  it('knows keep-alive, upgrades and CONNECT', () => {
    assert.equal(req('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n').keepAlive, false);
    assert.equal(req('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
    assert.equal(req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
    assert.equal(req('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n').wantsTunnel, true);
    assert.equal(req('CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n').wantsTunnel, true);
  });

  it('refuses ambiguous framing and malformed heads with 400', () => {
    for (const bad of [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
      'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  folded\r\n\r\n',
      'GET / HTTP/1.1\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n',
      'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n',
      'G@T / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n',
    ]) {
      assert.equal(status(() => req(bad)), 400, JSON.stringify(bad));
    }
  });

  it('answers other HTTP versions with 505', () => {
    assert.equal(status(() => req('GET / HTTP/2.0\r\nHost: x\r\n\r\n')), 505);
    assert.equal(status(() => req('GET / HTTP/1.2\r\nHost: x\r\n\r\n')), 505);
  });

  it('gives the reason of a head wrong in several ways: line ends first, then the first wrong line', () => {
    const reason = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        if (err instanceof HttpParseError) return `${err.status} ${err.message}`;
        throw err;
      }
      return 'accepted';
    };
    assert.equal(reason(() => req('GET / HTTP/2.0\r\nBad Name: v\r\nX: a\rb\r\n\r\n')), '400 bare CR or LF in head');
    assert.equal(reason(() => req('GET / HTTP/2.0\r\nBad Name: v\r\nX: a\r\n b\r\n\r\n')), '400 obsolete line folding');
    assert.equal(reason(() => req('GET / HTTP/2.0\r\nBad Name: v\r\n\r\n')), '505 HTTP version not supported');
    assert.equal(reason(() => req('GET / HTTP/1.1\r\nBad Name: v\r\nX: a\x01\r\n\r\n')), '400 invalid header name');
    assert.equal(reason(() => req('GET / HTTP/1.1\r\nX: a\x01\r\nNoColon\r\n\r\n')), '400 invalid character in header value');
    assert.equal(reason(() => req('GET / HTTP/1.1\r\nContent-Length: 1x\r\nNoColon\r\n\r\n')), '400 malformed header line');
    assert.equal(reason(() => res('HTTP/1.1 20 OK\r\nX: a\nb\r\n\r\n')), '502 bare CR or LF in head');
    assert.equal(reason(() => res('HTTP/1.1 200 O\x01\r\nBad Name: v\r\n\r\n')), '502 malformed status line');
  });
});

describe('request heads read for their framing only', () => {
  const outcome = (text: string, fields: 'all' | 'framing' | readonly string[]) => {
    const buf = Buffer.from(text, 'latin1');
    try {
      return parseRequestHead(buf, 0, findHeadEnd(buf, 0, 400), fields);
    } catch (err) {
      if (err instanceof HttpParseError) return `${err.status} ${err.message}`;
      throw err;
    }
  };

  it('frames, keeps alive, refuses and gives reasons as a full parse does, with no fields kept', () => {
    const heads = [
      'GET / HTTP/1.1\r\nHost: a\r\nX-Intercept-Id: dev1\r\n\r\n',
      'POST /p HTTP/1.1\r\nHOST: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\n',
      'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n',
      'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
      'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTRANSFER-ENCODING: chunked\r\n\r\n',
      'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET / HTTP/1.1\r\nX: 1\r\n\r\n',
      'GET / HTTP/1.1\r\nContent-Length: 1x\r\nNoColon\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n',
    ];
    for (const head of heads) {
      const full = outcome(head, 'all');
      const framing = outcome(head, 'framing');
      if (typeof full === 'string') {
        assert.equal(framing, full, head);
        continue;
      }
      assert.ok(typeof framing !== 'string', head);
      assert.ok(full.headers.length > 0, head);
      assert.deepEqual(framing, { ...full, headers: [] }, head);
    }
  });

  it('keeps only the fields named, in any case, and reads the rest as a full parse does', () => {
    const wanted = ['x-intercept-id', 'baggage'];
    const head = 'GET / HTTP/1.1\r\nHost: a\r\nX-INTERCEPT-ID: dev1\r\nX-Other: 1\r\nBaggage: k=v\r\nX-Intercept-Idx: no\r\nContent-Length: 0\r\n\r\n';
    const full = outcome(head, 'all');
    const some = outcome(head, wanted);
    assert.ok(typeof full !== 'string' && typeof some !== 'string');
    assert.deepEqual(some.headers, [
      { name: 'x-intercept-id', value: 'dev1' },
      { name: 'baggage', value: 'k=v' },
    ]);
    assert.deepEqual(some, { ...full, headers: full.headers.filter((h) => wanted.includes(h.name)) });
    assert.equal(outcome('GET / HTTP/1.1\r\nHost: a\r\nX-Intercept-Id: dev1\r\nNoColon\r\n\r\n', wanted), '400 malformed header line');
  });
});

describe('response heads', () => {
  it('finds the body framing per RFC 9112', () => {
    assert.deepEqual(res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n').framing, { kind: 'length', length: 3 });
    assert.deepEqual(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n').framing, { kind: 'chunked' });
    assert.deepEqual(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n').framing, { kind: 'close' });
    assert.deepEqual(res('HTTP/1.1 200 OK\r\n\r\n').framing, { kind: 'close' });
    assert.deepEqual(res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'HEAD').framing, { kind: 'none' });
    assert.deepEqual(res('HTTP/1.1 204 No Content\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(res('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n').framing, { kind: 'none' });
    assert.deepEqual(res('HTTP/1.1 100 Continue\r\n\r\n').framing, { kind: 'none' });
    assert.equal(res('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').status, 200);
  });

  it('keeps alive only what the server keeps alive', () => {
    assert.equal(res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').keepAlive, true);
    assert.equal(res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n').keepAlive, false);
    assert.equal(res('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
    assert.equal(res('HTTP/1.1 200 OK\r\n\r\n').keepAlive, false, 'a close-delimited body ends the connection');
  });

  it('refuses a response it could frame two ways with 502', () => {
    assert.equal(status(() => res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n')), 502);
    assert.equal(status(() => res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n')), 502);
    assert.equal(status(() => res('HTTP/1.1 2000 OK\r\n\r\n')), 502);
    assert.equal(status(() => res('HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n')), 502);
  });
});

/** Feeds `text` to a scanner `step` bytes at a time, as a connection accumulates them; the end or -1, or the error status. */
function scan(kind: 'request' | 'response', text: string, step: number): number | { status: number } {
  const all = Buffer.from(text, 'latin1');
  const scanner = new HeadScanner(kind);
  let end = -1;
  for (let n = Math.min(step, all.length); end < 0; n = Math.min(n + step, all.length)) {
    try {
      end = scanner.find(all.subarray(0, n), 0);
    } catch (err) {
      if (err instanceof HttpParseError) return { status: err.status };
      throw err;
    }
    if (n === all.length) break;
  }
  return end;
}

describe('finding the end of a head as it arrives', () => {
  it('finds the blank line that ends a head, whatever the split', () => {
    const text = 'GET / HTTP/1.1\r\nHost: x\r\n\r\nbody';
    for (let step = 1; step <= text.length; step++) assert.equal(scan('request', text, step), text.indexOf('body'), `step ${step}`);
    assert.equal(scan('request', 'GET / HTTP/1.1\r\nHost: x\r\n\r', 1), -1);
  });

  it('refuses a bare LF or a bare CR as soon as it arrives, before any blank line', () => {
    const shapes: Array<[kind: 'request' | 'response', text: string, status: number]> = [
      ['request', 'GET /outer HTTP/1.1\nHost: a\n', 400],
      ['request', 'GET /outer HTTP/1.1\r\nHost: a\n', 400],
      ['request', '\nGET /outer HTTP/1.1\r\n', 400],
      ['request', 'GET /outer HTTP/1.1\rHost: a\r\n', 400],
      ['request', 'GET /outer HTTP/1.1\r\nHost: a\r\r\n', 400],
      ['response', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', 502],
      ['response', 'HTTP/1.1 200 OK\r\nContent-Length: 2\rX', 502],
    ];
    for (const [kind, text, status] of shapes) {
      for (const step of [1, 3, text.length]) assert.deepEqual(scan(kind, text, step), { status }, `${JSON.stringify(text)} step ${step}`);
    }
  });

  it('checks the start line as soon as it is complete, without waiting for the rest of the head', () => {
    const shapes: Array<[kind: 'request' | 'response', text: string, status: number]> = [
      ['request', 'GET /outer\r\n', 400], // HTTP/0.9
      ['request', 'GET /outer HTTP/1.1 \r\n', 400],
      ['request', 'GET /outer http/1.1\r\n', 400],
      ['request', 'GET\t/outer\tHTTP/1.1\r\n', 400],
      ['request', ' GET /outer HTTP/1.1\r\n', 400],
      ['request', 'GET /outer HTTP/2.0\r\n', 505],
      ['request', 'GET /outer HTTP/1.2\r\n', 505],
      ['response', 'HTTP/1.1 20 OK\r\n', 502],
      ['response', 'ok\r\n', 502],
    ];
    for (const [kind, text, status] of shapes) {
      for (const step of [1, text.length]) assert.deepEqual(scan(kind, text, step), { status }, `${JSON.stringify(text)} step ${step}`);
    }
    assert.equal(scan('request', 'GET /outer HTTP/1.1\r\nHost: a\r\n', 1), -1, 'a good request line waits for the rest');
    assert.equal(scan('response', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', 1), -1);
  });
});
