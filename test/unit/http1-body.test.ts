import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BodyReader } from '../../src/protocol/http1/body';
import { HttpParseError } from '../../src/protocol/http1/head';

/** Feeds `bytes` in pieces of `step`; returns how many bytes belonged to the body. */
function run(reader: BodyReader, bytes: Buffer, step: number): number {
  let used = 0;
  for (let i = 0; i < bytes.length && !reader.done; i += step) {
    const end = Math.min(bytes.length, i + step);
    const n = reader.consume(bytes, i, end);
    used += n;
    if (n < end - i) break;
  }
  return used;
}

const chunked = Buffer.from('5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\nGET /next HTTP/1.1\r\n');
const bodyLength = chunked.indexOf('GET /next');

describe('body framing', () => {
  it('finds the end of a chunked body with extensions and trailers, whatever the split', () => {
    for (let step = 1; step <= chunked.length; step++) {
      const reader = new BodyReader({ kind: 'chunked' }, 400);
      assert.equal(run(reader, chunked, step), bodyLength, `step ${step}`);
      assert.equal(reader.done, true);
    }
  });

  it('counts a Content-Length body and stops at its end', () => {
    const reader = new BodyReader({ kind: 'length', length: 7 }, 400);
    assert.equal(reader.consume(Buffer.from('abc'), 0, 3), 3);
    assert.equal(reader.done, false);
    assert.equal(reader.consume(Buffer.from('defgNEXT'), 0, 8), 4);
    assert.equal(reader.done, true);
  });

  it('takes everything for a close-delimited body and nothing for none', () => {
    const close = new BodyReader({ kind: 'close' }, 502);
    assert.equal(close.consume(Buffer.from('abcdef'), 1, 6), 5);
    assert.equal(close.done, false);
    assert.equal(new BodyReader({ kind: 'none' }, 400).done, true);
  });

  it('refuses malformed chunk framing', () => {
    for (const bad of ['x\r\n', '5\r\nhelloXX', '5\nhello\r\n', ';\r\n', '1\r\na\r\n0\r\nX: \x00\r\n\r\n', 'fffffffffffffffff\r\n', '0\r\n\r\r']) {
      const reader = new BodyReader({ kind: 'chunked' }, 400);
      assert.throws(() => reader.consume(Buffer.from(bad, 'latin1'), 0, bad.length), (e: unknown) => e instanceof HttpParseError && e.status === 400, JSON.stringify(bad));
    }
  });

  it('limits trailer size', () => {
    const reader = new BodyReader({ kind: 'chunked' }, 502);
    const huge = Buffer.from(`0\r\nX: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.throws(() => reader.consume(huge, 0, huge.length), (e: unknown) => e instanceof HttpParseError && e.status === 502);
  });
});
