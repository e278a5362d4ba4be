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
  readonly headers: readonly Header[];
  readonly framing: BodyFraming;
  readonly keepAlive: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/;
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
// Field values may hold HTAB, visible ASCII and obs-text; never other controls, CR or LF.
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
const CONTENT_LENGTH = /^\d{1,15}$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;
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

/** Splits "name: value" lines after the start line; throws with `status` on anything malformed. */
function parseFields(lines: string[], status: number): Header[] {
  const headers: Header[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpParseError(status, 'malformed header line');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpParseError(status, 'invalid header name');
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (BAD_VALUE_CHAR.test(value)) throw new HttpParseError(status, 'invalid character in header value');
    headers.push({ name: name.toLowerCase(), value });
  }
  return headers;
}

function splitHead(head: string, status: number): string[] {
  // A CR or LF not part of a CRLF pair would let two parsers see different lines (bare LF, obs-fold).
  const lines = head.split('\r\n');
  for (const line of lines) {
    if (line.includes('\n') || line.includes('\r')) throw new HttpParseError(status, 'bare CR or LF in head');
  }
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i]!.charCodeAt(0);
    if (c === 0x20 || c === 0x09) throw new HttpParseError(status, 'obsolete line folding');
  }
  return lines;
}

function hasToken(list: string, token: string): boolean {
  for (const part of list.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

interface FramingFields {
  transferEncoding: string | undefined;
  contentLength: string | undefined;
  connection: string;
  hasUpgrade: boolean;
  hosts: number;
}

function framingFields(headers: readonly Header[], status: number): FramingFields {
  let te: string | undefined;
  let cl: string | undefined;
  let connection = '';
  let hasUpgrade = false;
  let hosts = 0;
  for (const h of headers) {
    switch (h.name) {
      case 'transfer-encoding':
        te = te === undefined ? h.value : `${te}, ${h.value}`;
        break;
      case 'content-length':
        for (const part of h.value.split(',')) {
          const v = part.trim();
          if (!CONTENT_LENGTH.test(v)) throw new HttpParseError(status, 'invalid Content-Length');
          if (cl !== undefined && cl !== v) throw new HttpParseError(status, 'conflicting Content-Length values');
          cl = v;
        }
        break;
      case 'connection':
        connection = connection ? `${connection}, ${h.value}` : h.value;
        break;
      case 'upgrade':
        hasUpgrade = true;
        break;
      case 'host':
        hosts++;
        break;
    }
  }
  return { transferEncoding: te, contentLength: cl, connection, hasUpgrade, hosts };
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

function parseRequestLine(line: string): RegExpExecArray {
  const m = REQUEST_LINE.exec(line);
  if (m) return m;
  if (/ HTTP\/\d\.\d$/.test(line) && !/ HTTP\/1\.[01]$/.test(line)) throw new HttpParseError(505, 'HTTP version not supported');
  throw new HttpParseError(400, 'malformed request line');
}

function parseStatusLine(line: string): RegExpExecArray {
  const m = STATUS_LINE.exec(line);
  if (!m) throw new HttpParseError(502, 'malformed status line');
  return m;
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
        if (this.kind === 'request') parseRequestLine(line);
        else parseStatusLine(line);
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

/** Parses a request head: `buf[start, end)` including its final blank line. */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  const lines = splitHead(buf.toString('latin1', start, end - 4), 400);
  const m = parseRequestLine(lines[0]!);
  const method = m[1]!;
  const minorVersion = m[3] === '1' ? 1 : 0;
  const headers = parseFields(lines, 400);
  const f = framingFields(headers, 400);
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
  return { method, target: m[2]!, minorVersion, headers, framing, wantsTunnel: f.hasUpgrade || method === 'CONNECT', keepAlive };
}

/** Parses a response head to the request `method`: `buf[start, end)` including its final blank line. */
export function parseResponseHead(buf: Buffer, start: number, end: number, method: string): ResponseHead {
  const lines = splitHead(buf.toString('latin1', start, end - 4), 502);
  const m = parseStatusLine(lines[0]!);
  const status = Number(m[2]);
  const minorVersion = m[1] === '1' ? 1 : 0;
  const headers = parseFields(lines, 502);
  const f = framingFields(headers, 502);

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
  return { status, minorVersion, headers, framing, keepAlive };
}

/** First value of a header by lower-case name. */
export function headerValue(headers: readonly Header[], name: string): string | undefined {
  for (const h of headers) if (h.name === name) return h.value;
  return undefined;
}
