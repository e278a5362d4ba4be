import { COLON, CR, HTAB, isFieldValueChar, isTokenChar, LF, SP } from './chars';

// Strict parsing of HTTP/1.x message heads (RFC 9112). The sidecar forwards the original bytes; it
// parses a head only to route it and to learn where the message ends. Anything ambiguous in the
// framing (both Content-Length and Transfer-Encoding, differing lengths, bare LF, obs-fold) is
// refused, so the sidecar and the server behind it can never disagree about where a request ends.

export class HttpParseError extends Error {
  constructor(
    /** Status to answer with: 400 bad request, 431 head too large, 505 version, 502 for a bad response. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

export interface Header {
  /** Lower-case. */
  readonly name: string;
  readonly value: string;
}

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Response body delimited by the server closing the connection. */
  | { readonly kind: 'close' };

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minorVersion: number;
  readonly headers: readonly Header[];
  readonly framing: BodyFraming;
  /** The client asks to switch protocols (Upgrade header) or to open a tunnel (CONNECT). */
  readonly wantsTunnel: boolean;
  /** The client will keep the connection open after this exchange. */
  readonly keepAlive: boolean;
}

export interface ResponseHead {
  readonly status: number;
  readonly minorVersion: number;
  readonly framing: BodyFraming;
  readonly keepAlive: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
const CONTENT_LENGTH = /^\d{1,15}$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const CLOSE_DELIMITED: BodyFraming = { kind: 'close' };

/**
 * Index just past the blank line that ends a head starting at `from`, or -1 if not there yet.
 * `resumeAt` (>= `from`) skips bytes an earlier call for the same head already scanned.
 *
 * While the head is incomplete, a CR not followed by LF or an LF not preceded by CR is refused
 * (`errorStatus`) as soon as it arrives: a peer that ends its lines with a bare LF would otherwise
 * wait for a CRLFCRLF that never comes. A complete head is found with one native search, and
 * parseRequestHead / parseResponseHead refuse a bare CR or LF inside it, so the common case of a
 * head arriving whole costs no byte loop.
 */
export function findHeadEnd(buf: Buffer, from: number, errorStatus: number, resumeAt = from): number {
  const found = buf.indexOf(CRLFCRLF, Math.max(from, resumeAt - 3));
  if (found >= 0) return found + 4;
  const n = buf.length;
  // Only the last byte of an earlier scan needs another look (a CR whose next byte had not come).
  for (let i = Math.max(from, resumeAt - 1); i < n; i++) {
    const c = buf[i]!;
    if (c > CR) continue;
    if (c === CR) {
      if (i + 1 < n && buf[i + 1] !== LF) throw new HttpParseError(errorStatus, 'bare CR in head');
    } else if (c === LF && (i === from || buf[i - 1] !== CR)) {
      throw new HttpParseError(errorStatus, 'bare LF in head');
    }
  }
  return -1;
}

/** The error of a head that the byte scan refused: a bare CR or LF, or a folded line, anywhere in it comes first. */
function refusal(buf: Buffer, start: number, end: number, status: number, err: HttpParseError): HttpParseError {
  checkLineEnds(buf, start, end, status);
  return err;
}

/** Throws if the head `buf[start, end)` (without its final blank line) has a CR or LF outside a CRLF, or a folded line. */
function checkLineEnds(buf: Buffer, start: number, end: number, status: number): void {
  let folded = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c > CR) continue;
    if (c === CR && i + 1 < end && buf[i + 1] === LF) {
      i++;
      if (i + 1 < end && (buf[i + 1] === SP || buf[i + 1] === HTAB)) folded = true;
    } else if (c === CR || c === LF) {
      throw new HttpParseError(status, 'bare CR or LF in head');
    }
  }
  if (folded) throw new HttpParseError(status, 'obsolete line folding');
}

/** The error of a field line the byte scan refused, found the simple way: only refused heads come here. */
function fieldLineError(line: string, status: number): HttpParseError {
  const colon = line.indexOf(':');
  if (colon <= 0) return new HttpParseError(status, 'malformed header line');
  if (!TOKEN.test(line.slice(0, colon))) return new HttpParseError(status, 'invalid header name');
  return new HttpParseError(status, 'invalid character in header value');
}

/**
 * Reads the "name: value" lines from `from` (just past the start line's CRLF) to `end` in one pass
 * over the bytes. Each field that frames a message goes to `framing`; with `headers`, every field
 * (or, with `wanted`, each whose lower-case name is one of those) is also pushed there, its name
 * lower-cased when it has an upper-case letter. Only these fields become
 * strings: the others are checked and left as bytes. `text` is `buf[start, end)` as a string to cut
 * them from, or null to read each from the bytes (a response keeps one or two fields, and turning its
 * whole head into a string would cost more). Throws with `status` on anything malformed.
 */
function parseFields(
  buf: Buffer,
  text: string | null,
  start: number,
  from: number,
  end: number,
  status: number,
  headers: Header[] | null,
  wanted: readonly string[] | null,
  framing: FramingFields,
): void {
  let i = from;
  for (;;) {
    const ls = i;
    let upper = false;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (!isTokenChar(c)) break;
      if (c <= 0x5a && c >= 0x41) upper = true;
    }
    if (i === ls || i === end || buf[i] !== COLON) {
      const headText = text ?? buf.toString('latin1', start, end);
      const le = headText.indexOf('\r', ls - start);
      throw refusal(buf, start, end, status, fieldLineError(headText.slice(ls - start, le < 0 ? end - start : le), status));
    }
    const nameEnd = i++;
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    const valueStart = i;
    let valueEnd = i;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c === CR) break;
      if (!isFieldValueChar(c)) throw refusal(buf, start, end, status, new HttpParseError(status, 'invalid character in header value'));
      if (c !== SP && c !== HTAB) valueEnd = i + 1;
    }
    const framingField = framingName(buf, ls, nameEnd - ls);
    const keep = headers !== null && (wanted === null || isOneOf(buf, ls, nameEnd - ls, wanted));
    if (keep || framingField !== undefined) {
      const value = text === null ? buf.toString('latin1', valueStart, valueEnd) : text.slice(valueStart - start, valueEnd - start);
      if (framingField !== undefined) framing.add(framingField, value);
      if (keep) {
        let name = framingField;
        if (name === undefined) {
          name = text === null ? buf.toString('latin1', ls, nameEnd) : text.slice(ls - start, nameEnd - start);
          if (upper) name = name.toLowerCase();
        }
        headers.push({ name, value });
      }
    }
    if (i === end) return;
    if (i + 1 >= end || buf[i + 1] !== LF) throw refusal(buf, start, end, status, new HttpParseError(status, 'bare CR or LF in head'));
    i += 2;
  }
}

/** True when the token `buf[at, at + length)` is one of the lower-case `names`, in any case. */
function isOneOf(buf: Buffer, at: number, length: number, names: readonly string[]): boolean {
  for (const name of names) {
    if (name.length !== length) continue;
    let i = 0;
    for (; i < length; i++) {
      let c = buf[at + i]!;
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (c !== name.charCodeAt(i)) break;
    }
    if (i === length) return true;
  }
  return false;
}

/** The names FramingFields takes, by length. */
const FRAMING_NAMES = new Map(['host', 'upgrade', 'connection', 'content-length', 'transfer-encoding'].map((n) => [n.length, n]));

/** The one of FRAMING_NAMES (lower-case) that the token `buf[at, at + length)` is in any case, or undefined. */
function framingName(buf: Buffer, at: number, length: number): string | undefined {
  const name = FRAMING_NAMES.get(length);
  if (name === undefined) return undefined;
  // A token byte that is a letter or '-' once 0x20 is set is that letter in either case, or '-'.
  for (let i = 0; i < length; i++) if ((buf[at + i]! | 0x20) !== name.charCodeAt(i)) return undefined;
  return name;
}

/** The start line of a head: up to its first CR. */
function firstLine(text: string): string {
  const cr = text.indexOf('\r');
  return cr < 0 ? text : text.slice(0, cr);
}

/** True when a line ends at `i`: the head ends there, or a CRLF follows with more lines after it. */
function lineEndsAt(buf: Buffer, i: number, end: number): boolean {
  return i === end || (i + 1 < end && buf[i] === CR && buf[i + 1] === LF);
}

/** Index of the first byte in `buf[from, end)` that is not a token character. */
function scanToken(buf: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && isTokenChar(buf[i]!)) i++;
  return i;
}

/** Index of the first byte in `buf[from, end)` that cannot be in a request target (a space, a control). */
function scanTarget(buf: Buffer, from: number, end: number): number {
  let i = from;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c <= SP || c === 0x7f) break;
  }
  return i;
}

/** The minor version if `buf[at, end)` starts with `HTTP/1.0` or `HTTP/1.1`, else -1. */
function httpVersion(buf: Buffer, at: number, end: number): number {
  if (at + 8 > end) return -1;
  if (buf[at] !== 0x48 || buf[at + 1] !== 0x54 || buf[at + 2] !== 0x54 || buf[at + 3] !== 0x50) return -1; // HTTP
  if (buf[at + 4] !== 0x2f || buf[at + 5] !== 0x31 || buf[at + 6] !== 0x2e) return -1; // /1.
  const d = buf[at + 7];
  return d === 0x31 ? 1 : d === 0x30 ? 0 : -1;
}

/** Index just past a well-formed status line starting at `start` (STATUS_LINE), or -1. */
function statusLineEnd(buf: Buffer, start: number, end: number): number {
  if (httpVersion(buf, start, end) < 0 || start + 12 > end || buf[start + 8] !== SP) return -1;
  const d0 = buf[start + 9]!;
  const d1 = buf[start + 10]!;
  const d2 = buf[start + 11]!;
  if (d0 < 0x31 || d0 > 0x39 || d1 < 0x30 || d1 > 0x39 || d2 < 0x30 || d2 > 0x39) return -1;
  let i = start + 12;
  if (i < end && buf[i] === SP) {
    for (i++; i < end; i++) {
      const c = buf[i]!;
      if (c === CR) break;
      if (!isFieldValueChar(c)) return -1;
    }
  }
  return lineEndsAt(buf, i, end) ? i : -1;
}

/** Optional whitespace around a list element, as String.trim removes it from a field value (NBSP too). */
function isListSpace(c: number): boolean {
  return c === SP || c === HTAB || c === 0xa0;
}

/** True when the comma-separated `list` has `token` (lower-case), in any case. Allocates nothing. */
function hasToken(list: string, token: string): boolean {
  const n = list.length;
  for (let from = 0; from <= n; ) {
    let to = list.indexOf(',', from);
    if (to < 0) to = n;
    let a = from;
    let b = to;
    while (a < b && isListSpace(list.charCodeAt(a))) a++;
    while (b > a && isListSpace(list.charCodeAt(b - 1))) b--;
    if (b - a === token.length && equalsLowerCase(list, a, token)) return true;
    from = to + 1;
  }
  return false;
}

/** `s` from `at` is `lower` when ASCII letters are lower-cased (no other Latin-1 letter lower-cases to ASCII). */
function equalsLowerCase(s: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(at + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** A Content-Length value of one decimal number (the usual case) is taken as it is. */
function isPlainLength(v: string): boolean {
  if (v.length === 0 || v.length > 15) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * What the fields that frame a message say, gathered as parseFields finds them. Their values are
 * judged by check(), after the last line: a malformed line anywhere in the head is its reason first.
 */
class FramingFields {
  transferEncoding: string | undefined = undefined;
  contentLength: string | undefined = undefined;
  connection = '';
  hasUpgrade = false;
  hosts = 0;
  /** Content-Length values after those that were one plain number each, the same every time. */
  private otherLengths: string[] | undefined = undefined;

  constructor(private readonly status: number) {}

  /** One field; `name` is one of FRAMING_NAMES. */
  add(name: string, value: string): void {
    switch (name) {
      case 'transfer-encoding':
        this.transferEncoding = this.transferEncoding === undefined ? value : `${this.transferEncoding}, ${value}`;
        break;
      case 'content-length':
        if (this.otherLengths === undefined && isPlainLength(value) && (this.contentLength === undefined || this.contentLength === value)) {
          this.contentLength = value;
        } else {
          (this.otherLengths ??= []).push(value);
        }
        break;
      case 'connection':
        this.connection = this.connection ? `${this.connection}, ${value}` : value;
        break;
      case 'upgrade':
        this.hasUpgrade = true;
        break;
      case 'host':
        this.hosts++;
        break;
    }
  }

  /** Throws if the Content-Length values are not one number, given once or repeated. */
  check(): void {
    for (const value of this.otherLengths ?? []) {
      for (const part of value.split(',')) {
        const v = part.trim();
        if (!CONTENT_LENGTH.test(v)) throw new HttpParseError(this.status, 'invalid Content-Length');
        if (this.contentLength !== undefined && this.contentLength !== v) throw new HttpParseError(this.status, 'conflicting Content-Length values');
        this.contentLength = v;
      }
    }
  }
}

/** True when the coding list ends with a single "chunked"; throws when chunked appears elsewhere. */
function endsChunked(te: string, status: number): boolean {
  const codings = te.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c.length > 0);
  const last = codings.length - 1;
  codings.forEach((c, i) => {
    if (c === 'chunked' && i !== last) throw new HttpParseError(status, 'chunked is not the final transfer coding');
  });
  return codings[last] === 'chunked';
}

/** Why `line` is not a request line: 505 for a version other than HTTP/1.x, otherwise 400; null if it is one. */
function requestLineError(line: string): HttpParseError | null {
  if (REQUEST_LINE.test(line)) return null;
  if (/ HTTP\/\d\.\d$/.test(line) && !/ HTTP\/1\.[01]$/.test(line)) return new HttpParseError(505, 'HTTP version not supported');
  return new HttpParseError(400, 'malformed request line');
}

/**
 * Finds the end of one head that may arrive in pieces, for a caller that keeps the head's bytes so
 * far in one buffer and calls `find` again with more. It scans each byte once, refuses a bare CR or
 * LF as it arrives, and checks the start line as soon as its CRLF is there: a malformed request line
 * (an HTTP/0.9 `GET /`, a wrong version) is answered at once, not after the head timeout.
 */
export class HeadScanner {
  private scanned = 0;
  private lineChecked = false;

  constructor(private readonly kind: 'request' | 'response') {}

  /** `buf[from, ...)` is the head so far (on a later call: the same head with more bytes). Index past its end, or -1. */
  find(buf: Buffer, from: number): number {
    const status = this.kind === 'request' ? 400 : 502;
    const end = findHeadEnd(buf, from, status, from + this.scanned);
    if (end >= 0) {
      this.reset();
      return end;
    }
    if (!this.lineChecked) {
      const lf = buf.indexOf(LF, from); // preceded by CR: findHeadEnd refused a bare LF
      if (lf >= 0) {
        const line = buf.toString('latin1', from, lf - 1);
        const err = this.kind === 'request' ? requestLineError(line) : STATUS_LINE.test(line) ? null : new HttpParseError(502, 'malformed status line');
        if (err !== null) throw err;
        this.lineChecked = true;
      }
    }
    this.scanned = buf.length - from;
    return -1;
  }

  /** The next call starts a new head. */
  reset(): void {
    this.scanned = 0;
    this.lineChecked = false;
  }
}

/** No fields: the `headers` of a request parsed for its framing only. */
const NO_HEADERS: readonly Header[] = Object.freeze([]);

/**
 * Parses a request head: `buf[start, end)` including its final blank line. `fields` says which of its
 * fields `headers` holds: all, none ('framing'), or those whose lower-case name is in a list. The head
 * is checked all the same; a caller that needs few fields, such as the sidecar matching claims, saves
 * the strings of the others.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, fields: 'all' | 'framing' | readonly string[] = 'all'): RequestHead {
  const textEnd = end - 4;
  const text = buf.toString('latin1', start, textEnd);
  // One pass over the bytes checks the head as it reads it; a refused head is looked at again for its reason.
  const methodEnd = scanToken(buf, start, textEnd);
  const targetEnd = methodEnd > start && buf[methodEnd] === SP ? scanTarget(buf, methodEnd + 1, textEnd) : -1;
  const minorVersion = targetEnd > methodEnd + 1 && buf[targetEnd] === SP ? httpVersion(buf, targetEnd + 1, textEnd) : -1;
  const lineEnd = targetEnd + 9;
  if (minorVersion < 0 || !lineEndsAt(buf, lineEnd, textEnd)) throw refusal(buf, start, textEnd, 400, requestLineError(firstLine(text)) ?? new HttpParseError(400, 'malformed request line'));
  const method = text.slice(0, methodEnd - start);
  const headers: Header[] | null = fields === 'framing' ? null : [];
  const f = new FramingFields(400);
  if (lineEnd !== textEnd) parseFields(buf, text, start, lineEnd + 2, textEnd, 400, headers, fields === 'all' || fields === 'framing' ? null : fields, f);
  f.check();
  if (f.hosts > 1 || (minorVersion === 1 && f.hosts === 0)) throw new HttpParseError(400, 'a request needs exactly one Host header');

  let framing: BodyFraming = NO_BODY;
  if (f.transferEncoding !== undefined) {
    if (minorVersion === 0) throw new HttpParseError(400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (f.contentLength !== undefined) throw new HttpParseError(400, 'both Transfer-Encoding and Content-Length');
    if (!endsChunked(f.transferEncoding, 400)) throw new HttpParseError(400, 'request body length cannot be determined');
    framing = CHUNKED;
  } else if (f.contentLength !== undefined) {
    const length = Number(f.contentLength);
    framing = length === 0 ? NO_BODY : { kind: 'length', length };
  }

  const keepAlive = minorVersion === 1 ? !hasToken(f.connection, 'close') : hasToken(f.connection, 'keep-alive');
  return { method, target: text.slice(methodEnd + 1 - start, targetEnd - start), minorVersion, headers: headers ?? NO_HEADERS, framing, wantsTunnel: f.hasUpgrade || method === 'CONNECT', keepAlive };
}

/** Parses a response head to the request `method`: `buf[start, end)` including its final blank line. */
export function parseResponseHead(buf: Buffer, start: number, end: number, method: string): ResponseHead {
  const textEnd = end - 4;
  const lineEnd = statusLineEnd(buf, start, textEnd);
  if (lineEnd < 0) throw refusal(buf, start, textEnd, 502, new HttpParseError(502, 'malformed status line'));
  const status = (buf[start + 9]! - 0x30) * 100 + (buf[start + 10]! - 0x30) * 10 + (buf[start + 11]! - 0x30);
  const minorVersion = buf[start + 7] === 0x31 ? 1 : 0;
  const f = new FramingFields(502);
  if (lineEnd !== textEnd) parseFields(buf, null, start, lineEnd + 2, textEnd, 502, null, null, f);
  f.check();

  let framing: BodyFraming;
  if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
    framing = NO_BODY;
  } else if (method === 'CONNECT' && status < 300) {
    framing = CLOSE_DELIMITED; // the connection becomes a tunnel; the caller switches to raw bytes
  } else if (f.transferEncoding !== undefined) {
    if (f.contentLength !== undefined) throw new HttpParseError(502, 'response has both Transfer-Encoding and Content-Length');
    framing = endsChunked(f.transferEncoding, 502) ? CHUNKED : CLOSE_DELIMITED;
  } else if (f.contentLength !== undefined) {
    const length = Number(f.contentLength);
    framing = length === 0 ? NO_BODY : { kind: 'length', length };
  } else {
    framing = CLOSE_DELIMITED;
  }
  const keepAlive =
    framing.kind !== 'close' && (minorVersion === 1 ? !hasToken(f.connection, 'close') : hasToken(f.connection, 'keep-alive'));
  return { status, minorVersion, framing, keepAlive };
}
