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

/** Feeds a whole chunked body to a reader byte by byte; the bytes it took, or the error status. */
function chunkedStatus(text: string, errorStatus = 400): number | { status: number } {
  const bytes = Buffer.from(text, 'latin1');
  const reader = new BodyReader({ kind: 'chunked' }, errorStatus);
  try {
    return run(reader, bytes, 1);
  } catch (err) {
    if (err instanceof HttpParseError) return { status: err.status };
    throw err;
  }
}

describe('chunk lines', () => {
  it('takes a size with extensions: ;name, ;name=token, ;name="quoted string"', () => {
    for (const line of ['5', '05', '5;a', '5;a=b', '5;a=b;c', '5;a="x y;\\"z"', '5;a="";b=1', '5;A-b.c!=~1']) {
      const text = `${line}\r\nhello\r\n0\r\n\r\n`;
      assert.equal(chunkedStatus(text), text.length, JSON.stringify(line));
    }
  });

  it('refuses whitespace, an empty extension and anything but a token or quoted string', () => {
    for (const line of ['5 x', '5 5', '5\t', '5 ', '5 ;a=b', '5; a=b', '5;a =b', '5;a= b', '5;a=b ', '5;', '5;;a', '5;=b', '5;a=', '5;a="x', '5;a="x"y', '5;a=b"c"', '5;a@b', '5;a=\x00', '5;a="\x7f"', '5x', '-5', 'x5', '', ' 5']) {
      assert.deepEqual(chunkedStatus(`${line}\r\nhello\r\n0\r\n\r\n`), { status: 400 }, JSON.stringify(line));
    }
  });
});

describe('trailers', () => {
  it('takes trailer fields as a head takes header fields', () => {
    for (const trailer of ['X-Checksum: c0ffee', 'x:', 'X-A:\tv\t', 'X-Obs: caf\xe9', "A!#$%&'*+-.^_`|~z: v"]) {
      const text = `0\r\n${trailer}\r\n\r\n`;
      assert.equal(chunkedStatus(text), text.length, JSON.stringify(trailer));
    }
  });

  it('refuses a line without a colon, an empty name, a space before the colon, obs-fold and bad value bytes', () => {
    for (const trailers of [
      'GET /SMUGGLED HTTP/1.1\r\nHost: a',
      'NoColon',
      ': v',
      'X-A : v',
      'X A: v',
      'X-A: v\r\n folded',
      'X-A: v\r\n\tfolded',
      ' X-A: v',
      'X-A: a\x00b',
      'X-A: a\x7fb',
      'X-A: a\nb',
      'X-A: a\rb',
      'X-\xe9: v',
    ]) {
      assert.deepEqual(chunkedStatus(`0\r\n${trailers}\r\n\r\n`), { status: 400 }, JSON.stringify(trailers));
    }
  });

  it('refuses fields that frame or route the message, in any case, and answers 502 for a response', () => {
    for (const name of ['Content-Length', 'transfer-encoding', 'HOST', 'Connection', 'TE', 'Trailer', 'Upgrade', 'Keep-Alive', 'Proxy-Connection']) {
      assert.deepEqual(chunkedStatus(`0\r\n${name}: 5\r\n\r\n`), { status: 400 }, name);
      assert.deepEqual(chunkedStatus(`0\r\n${name}: 5\r\n\r\n`, 502), { status: 502 }, name);
    }
    // Names that only begin or end like one of them are fine.
    for (const name of ['Content-Length2', 'X-Host', 'Hos', 'T', 'Tea', 'Trailers', 'Content-Type']) {
      const text = `0\r\n${name}: 5\r\n\r\n`;
      assert.equal(chunkedStatus(text), text.length, name);
    }
  });
});
