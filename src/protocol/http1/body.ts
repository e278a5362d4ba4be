// Finds where an HTTP/1.x body ends while its bytes are forwarded untouched. For chunked bodies it
// walks the chunk framing (sizes, extensions, data, trailers) without copying the data. Chunk lines
// and trailers get the same strictness as heads: anything a lenient parser could read another way
// (whitespace in a chunk line, a trailer line without a colon, obs-fold, a bare CR or LF) is refused,
// so that no request can hide in a body's framing.
import { isFieldValueChar, isTokenChar } from './chars';
import { HttpParseError, type BodyFraming } from './head';

const enum S {
  Size, ExtNameStart, ExtName, ExtValueStart, ExtToken, ExtQuoted, ExtQuotedPair, ExtAfterQuoted, SizeLf,
  Data, DataCr, DataLf,
  TrailerStart, TrailerName, TrailerValue, TrailerLf, EndLf,
  Done,
}

const MAX_SIZE_DIGITS = 15; // 15 hex digits stay within Number's safe integer range
const MAX_LINE_BYTES = 8 * 1024; // one chunk-size line with extensions, or one trailer line
const MAX_TRAILER_BYTES = 32 * 1024;

/**
 * Fields a trailer must not carry (RFC 9110 §6.5.1): they frame or route the message, or manage
 * the connection, and a recipient that merged them into the head would see another message.
 */
const FORBIDDEN_TRAILERS = [
  'content-length', 'transfer-encoding', 'host', 'connection', 'te', 'trailer', 'upgrade', 'keep-alive', 'proxy-connection',
];
const ALL_FORBIDDEN = (1 << FORBIDDEN_TRAILERS.length) - 1;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** qdtext of a quoted-string: HTAB, SP, visible ASCII but `"` and `\`, obs-text. */
function isQdText(c: number): boolean {
  return c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

export class BodyReader {
  private state: S;
  private remaining: number;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  /** While a trailer name arrives: its length, and which forbidden names it still matches (bit i: FORBIDDEN_TRAILERS[i]). */
  private nameLength = 0;
  private nameMatches = 0;

  constructor(
    readonly framing: BodyFraming,
    /** Status for framing errors: 400 for requests, 502 for responses. */
    private readonly errorStatus: number,
  ) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.state = framing.kind === 'none' ? S.Done : framing.kind === 'chunked' ? S.Size : S.Data;
  }

  get done(): boolean {
    return this.state === S.Done;
  }

  /** Bytes of `buf[start, end)` that belong to this body; `done` tells whether it ended there. */
  consume(buf: Buffer, start: number, end: number): number {
    switch (this.framing.kind) {
      case 'none':
        return 0;
      case 'close':
        return end - start; // ends when the connection does
      case 'length': {
        const n = Math.min(this.remaining, end - start);
        this.remaining -= n;
        if (this.remaining === 0) this.state = S.Done;
        return n;
      }
      case 'chunked':
        return this.consumeChunked(buf, start, end);
    }
  }

  private fail(message: string): never {
    throw new HttpParseError(this.errorStatus, message);
  }

  private consumeChunked(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && this.state !== S.Done) {
      if (this.state === S.Data) {
        const n = Math.min(this.remaining, end - i);
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = S.DataCr;
        continue;
      }
      const c = buf[i++]!;
      switch (this.state) {
        case S.Size: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) this.fail('chunk size too large');
            this.remaining = this.remaining * 16 + h;
          } else if (this.digits > 0 && c === 0x0d) {
            this.state = S.SizeLf;
          } else if (this.digits > 0 && c === 0x3b) {
            this.state = S.ExtNameStart;
            this.lineBytes = 0;
          } else {
            this.fail('invalid chunk size'); // no digits, or whitespace or anything else after them
          }
          break;
        }
        // chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), with no whitespace anywhere
        case S.ExtNameStart:
          this.extByte();
          if (isTokenChar(c)) this.state = S.ExtName;
          else this.fail('invalid chunk extension');
          break;
        case S.ExtName:
          this.extByte();
          if (c === 0x3d) this.state = S.ExtValueStart;
          else this.extEnd(c);
          break;
        case S.ExtValueStart:
          this.extByte();
          if (isTokenChar(c)) this.state = S.ExtToken;
          else if (c === 0x22) this.state = S.ExtQuoted;
          else this.fail('invalid chunk extension');
          break;
        case S.ExtToken:
          this.extByte();
          this.extEnd(c);
          break;
        case S.ExtQuoted:
          this.extByte();
          if (c === 0x22) this.state = S.ExtAfterQuoted;
          else if (c === 0x5c) this.state = S.ExtQuotedPair;
          else if (!isQdText(c)) this.fail('invalid chunk extension');
          break;
        case S.ExtQuotedPair:
          this.extByte();
          if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) this.state = S.ExtQuoted;
          else this.fail('invalid chunk extension');
          break;
        case S.ExtAfterQuoted:
          this.extByte();
          if (c === 0x3b) this.state = S.ExtNameStart;
          else if (c === 0x0d) this.state = S.SizeLf;
          else this.fail('invalid chunk extension');
          break;
        case S.SizeLf:
          if (c !== 0x0a) this.fail('chunk size line must end with CRLF');
          this.digits = 0;
          this.state = this.remaining === 0 ? S.TrailerStart : S.Data;
          break;
        case S.DataCr:
          if (c !== 0x0d) this.fail('chunk data must end with CRLF');
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (c !== 0x0a) this.fail('chunk data must end with CRLF');
          this.state = S.Size;
          break;
        // trailer-section = *( field-line CRLF ) CRLF, field-line = token ":" OWS value OWS
        case S.TrailerStart:
          if (c === 0x0d) {
            this.state = S.EndLf;
            break;
          }
          if (c === 0x20 || c === 0x09) this.fail('obsolete line folding in trailers');
          if (!isTokenChar(c)) this.fail('malformed trailer line');
          this.state = S.TrailerName;
          this.lineBytes = 0;
          this.nameLength = 0;
          this.nameMatches = ALL_FORBIDDEN;
          this.trailerNameByte(c);
          break;
        case S.TrailerName:
          if (c === 0x3a) {
            this.trailerByte();
            this.checkTrailerName();
            this.state = S.TrailerValue;
          } else if (isTokenChar(c)) {
            this.trailerNameByte(c);
          } else {
            this.fail('malformed trailer line'); // a space before the colon, no colon, a request line
          }
          break;
        case S.TrailerValue:
          if (c === 0x0d) this.state = S.TrailerLf;
          else if (isFieldValueChar(c)) this.trailerByte();
          else this.fail('invalid character in trailer value');
          break;
        case S.TrailerLf:
          if (c !== 0x0a) this.fail('trailer line must end with CRLF');
          this.state = S.TrailerStart;
          break;
        case S.EndLf:
          if (c !== 0x0a) this.fail('chunked body must end with CRLF');
          this.state = S.Done;
          break;
      }
    }
    return i - start;
  }

  private extByte(): void {
    if (++this.lineBytes > MAX_LINE_BYTES) this.fail('chunk extension too long');
  }

  /** After a complete extension name or token value: another extension, or the end of the line. */
  private extEnd(c: number): void {
    if (c === 0x3b) this.state = S.ExtNameStart;
    else if (c === 0x0d) this.state = S.SizeLf;
    else if (!isTokenChar(c)) this.fail('invalid chunk extension');
  }

  private trailerByte(): void {
    if (++this.lineBytes > MAX_LINE_BYTES || ++this.trailerBytes > MAX_TRAILER_BYTES) this.fail('trailers too large');
  }

  private trailerNameByte(c: number): void {
    this.trailerByte();
    const lower = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    const at = this.nameLength++;
    let matches = this.nameMatches;
    for (let k = 0; matches !== 0 && k < FORBIDDEN_TRAILERS.length; k++) {
      if ((matches & (1 << k)) !== 0 && FORBIDDEN_TRAILERS[k]!.charCodeAt(at) !== lower) matches &= ~(1 << k);
    }
    this.nameMatches = matches;
  }

  private checkTrailerName(): void {
    for (let k = 0; this.nameMatches !== 0 && k < FORBIDDEN_TRAILERS.length; k++) {
      if ((this.nameMatches & (1 << k)) !== 0 && FORBIDDEN_TRAILERS[k]!.length === this.nameLength) {
        this.fail(`${FORBIDDEN_TRAILERS[k]} is not allowed in trailers`);
      }
    }
  }
}
