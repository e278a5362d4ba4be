// Decides from a connection's first bytes whether it speaks HTTP/1 (the sidecar parses it and routes
// each request) or something else (passed to the app byte for byte). The rule leans towards HTTP:
// whatever some HTTP/1 server could take for a request is parsed, so a request that carries a claim
// can never reach the app unparsed; a malformed one is then answered 400 or 505 by the strict parser.
// Only what no HTTP/1 parser would take for a request passes raw: TLS, the HTTP/2 preface, binary,
// text protocols whose first line names no HTTP version.
//
// A pure function of the bytes seen so far, so that a caller can ask again as more arrive:
//   'http' — parse it;  'raw' — pass it through;  'wait' — the bytes so far do not tell yet.
import { isTokenChar } from '../../src/protocol/http1/chars';

export type Detected = 'http' | 'raw' | 'wait';

/** HTTP/2 with prior knowledge starts with this (RFC 9113 §3.4); it goes to the app untouched. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Past this many bytes without a line end the sidecar decides anyway: a long first line that starts
 * like a request line ("token SP") is HTTP, and the parser answers it (431 if too large).
 */
export const DETECT_LIMIT = 16 * 1024;

/**
 * Methods that make a connection HTTP as soon as they are followed by a space or tab, without waiting
 * for the line's end: RFC 9110, PATCH, WebDAV and its extensions, and the others Node's parser knows.
 * Upper case only, as methods are case-sensitive; any other token is HTTP once its line names a version.
 */
const METHODS = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH',
  'ACL', 'BIND', 'REBIND', 'UNBIND', 'LINK', 'UNLINK', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'CHECKIN', 'UNCHECKOUT',
  'MERGE', 'MKCALENDAR', 'MKWORKSPACE', 'MKREDIRECTREF', 'UPDATEREDIRECTREF', 'ORDERPATCH', 'VERSION-CONTROL',
  'BASELINE-CONTROL', 'LABEL', 'UPDATE', 'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PURGE', 'SOURCE',
]);
const MAX_METHOD_LENGTH = 17; // UPDATEREDIRECTREF

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

export function detectProtocol(buf: Buffer): Detected {
  const n = buf.length;

  // The HTTP/2 preface, or what may still become it.
  const m = Math.min(n, H2_PREFACE.length);
  let k = 0;
  while (k < m && buf[k] === H2_PREFACE[k]) k++;
  if (k === m) return n < H2_PREFACE.length ? 'wait' : 'raw';

  // Empty lines before a request line are allowed (RFC 9112 §2.2). Whitespace and bare CR or LF are
  // skipped here too, since lenient servers skip them: what follows decides. The strict parser then
  // skips only CRLF lines and answers 400 to the rest.
  let p = 0;
  while (p < n && (buf[p] === CR || buf[p] === LF || buf[p] === SP || buf[p] === HTAB)) p++;
  if (p === n) return n >= DETECT_LIMIT ? 'http' : 'wait';
  if (!isTokenChar(buf[p]!)) return 'raw'; // TLS (0x16), binary, JSON, ...

  // A known method and a space or tab: a request line, whatever follows (HTTP/0.9, a bad version...).
  let j = p + 1;
  while (j < n && isTokenChar(buf[j]!)) j++;
  if (j === n) return n >= DETECT_LIMIT ? 'http' : 'wait'; // any token may be a method to some server
  const tokenThenSpace = buf[j] === SP || buf[j] === HTAB;
  if (tokenThenSpace && j - p <= MAX_METHOD_LENGTH && METHODS.has(buf.toString('latin1', p, j))) return 'http';

  // Otherwise the first line decides: if it names an HTTP version ("HTTP/" in any case) it is HTTP,
  // as soon as that is seen; a line that ends without it is not. The line ends at an LF; a bare CR
  // does not end it, as a lenient parser may read it as a space. After "token SP" the line is taken
  // as a request line whatever bytes it holds (the parser refuses control bytes); without that start
  // a control byte means binary, which may hold "http/" anywhere (a TLS ClientHello's ALPN list).
  for (let i = j; i < n; i++) {
    const c = buf[i]!;
    if (c === 0x2f && i - 4 >= p && spellsHttp(buf, i - 4)) return 'http';
    if (c === LF) return 'raw';
    if (c === CR) {
      if (i + 1 === n) break;
      if (buf[i + 1] === LF) return 'raw';
    } else if (!tokenThenSpace && ((c < SP && c !== HTAB) || c === 0x7f)) {
      return 'raw';
    }
  }
  if (n < DETECT_LIMIT) return 'wait';
  return tokenThenSpace ? 'http' : 'raw';
}

/** Do the four bytes at `at` spell "http" in any case? */
function spellsHttp(buf: Buffer, at: number): boolean {
  return (buf[at]! | 0x20) === 0x68 && (buf[at + 1]! | 0x20) === 0x74 && (buf[at + 2]! | 0x20) === 0x74 && (buf[at + 3]! | 0x20) === 0x70;
}
