import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { METHODS } from 'node:http';
import { DETECT_LIMIT, detectProtocol, type Detected } from '../../proxy-image/src/detect-protocol';

const detect = (bytes: string | Buffer): Detected => detectProtocol(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);

/** What is decided after each prefix of `bytes`, with repeats collapsed: e.g. ['wait', 'http']. */
function decisions(bytes: string | Buffer): Detected[] {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const seen: Detected[] = [];
  for (let n = 0; n <= buf.length; n++) {
    const d = detectProtocol(buf.subarray(0, n));
    if (seen.at(-1) !== d) seen.push(d);
  }
  return seen;
}

describe('protocol detection', () => {
  it('takes every shape a server could read as a request for HTTP, so the strict parser answers it', () => {
    for (const shape of [
      'GET /outer HTTP/1.1\r\nHost: a\r\n\r\n',
      '\r\nGET /outer HTTP/1.1\r\nHost: a\r\n\r\n',
      '\r\n\r\nGET /outer HTTP/1.1\r\n',
      '\nGET /outer HTTP/1.1\r\n',
      'GET /outer HTTP/1.1\nHost: a\n\n',
      'GET /outer HTTP/1.1 \r\n',
      'GET /outer HTTP/1.1\rHost: a\r\n',
      'GET /outer HTTP/2.0\r\n',
      'GET\t/outer\tHTTP/1.1\r\n',
      'GET /outer http/1.1\r\n',
      ' GET /outer HTTP/1.1\r\n',
      '\tGET /outer HTTP/1.1\r\n',
      'GET /outer\r\n', // HTTP/0.9
      'get /outer HTTP/1.1\r\n',
      'Get /outer HTTP/1.1\r\n',
      'FOO /outer HTTP/1.1\r\n', // any token is a method to some servers
      'FOO /outer hTtP/1.0\n',
      'FOO /outer\rHTTP/1.1\r\n', // a bare CR that a lenient parser reads as a space
      'FOO /a\x00b HTTP/1.1\r\n', // the parser refuses the control byte
      'GET/outer HTTP/1.1\r\n',
      'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n', // not the preface
      '\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', // the preface only counts at the start
      'HTTP/1.1 200 OK\r\n',
    ]) {
      assert.equal(detect(shape), 'http', JSON.stringify(shape));
    }
  });

  it('passes through what no HTTP/1 parser takes for a request', () => {
    const clientHello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, ...Buffer.from('http/1.1\r\n')]);
    for (const shape of [
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00',
      clientHello,
      '*1\r\n$4\r\nPING\r\n', // Redis RESP
      'get some-key\r\n', // memcached: a lower-case word, and no HTTP version on its line
      'HELLO world\r\n',
      'FOO /x\r\n',
      'A\x00\x00\x00http/1.1\r\n', // binary that happens to contain "http/"
      'FOO\x01/x HTTP/1.1\r\n',
      '{"jsonrpc":"2.0"}\n',
      '\x00\x00\x00\x08\x04\xd2\x16\x2f', // PostgreSQL SSLRequest
      '\r\n\x16\x03\x01',
      ' \x00',
    ]) {
      assert.equal(detect(shape), 'raw', JSON.stringify(shape.toString()));
    }
  });

  it('decides at once on a known method and a space, without waiting for the line end', () => {
    assert.deepEqual(decisions('GET '), ['wait', 'http']);
    assert.deepEqual(decisions('\r\nPOST\t'), ['wait', 'http']);
    assert.deepEqual(decisions('  DELETE '), ['wait', 'http']);
    for (const method of [...METHODS.filter((m) => m !== 'PRI'), 'PROPFIND', 'MKCOL', 'VERSION-CONTROL']) {
      assert.equal(detect(`${method} `), 'http', method);
    }
    assert.equal(detect('GET'), 'wait');
    assert.equal(detect('get '), 'wait', 'lower case waits for the line to name a version');
    assert.equal(detect('FOO /outer HTTP/1.'), 'http');
    assert.equal(detect('FOO /outer HTTP/'), 'http');
    assert.equal(detect('FOO /outer HTTP'), 'wait');
  });

  it('decides on TLS and binary at the first byte, and waits on what may still become the HTTP/2 preface', () => {
    assert.equal(detect(Buffer.from([0x16])), 'raw');
    assert.equal(detect(Buffer.from([0x00])), 'raw');
    assert.equal(detect(''), 'wait');
    assert.deepEqual(decisions('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), ['wait', 'raw']);
    assert.deepEqual(decisions('PRI /x HTTP/1.1\r\n'), ['wait', 'http']);
    assert.deepEqual(decisions('*1\r\n$4\r\nPING\r\n'), ['wait', 'raw']);
  });

  it('decides when the first line grows past the limit without ending', () => {
    assert.equal(detect(`FOO /${'a'.repeat(DETECT_LIMIT)}`), 'http', 'an overlong request line is answered by the parser');
    assert.equal(detect(`FOO /${'a'.repeat(DETECT_LIMIT - 100)}`), 'wait');
    assert.equal(detect('A'.repeat(DETECT_LIMIT)), 'http', 'any token may be a method');
    assert.equal(detect('\r\n'.repeat(DETECT_LIMIT / 2)), 'http', 'empty lines do not keep it waiting forever');
    assert.equal(detect(`FOO/${'a'.repeat(DETECT_LIMIT)}`), 'raw');
  });
});
