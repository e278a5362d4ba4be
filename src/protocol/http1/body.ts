// Finds where an HTTP/1.x body ends while its bytes are forwarded untouched. For chunked bodies it
// walks the chunk framing (sizes, extensions, data, trailers) without copying the data.
import { HttpParseError, type BodyFraming } from './head';

const enum S {
  Size, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, Trailer, TrailerLf, EndLf, Done,
}

const MAX_SIZE_DIGITS = 15; // 15 hex digits stay within Number's safe integer range
const MAX_LINE_BYTES = 8 * 1024; // one chunk-size line with extensions, or one trailer line
const MAX_TRAILER_BYTES = 32 * 1024;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export class BodyReader {
  private state: S;
  private remaining: number;
  private digits = 0;
  private lineBytes = 0;
  private trailerBytes = 0;

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
          } else if (this.digits === 0) {
            this.fail('invalid chunk size');
          } else if (c === 0x0d) {
            this.state = S.SizeLf;
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.state = S.Ext;
            this.lineBytes = 0;
          } else {
            this.fail('invalid chunk size');
          }
          break;
        }
        case S.Ext:
          if (c === 0x0d) this.state = S.SizeLf;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.fail('invalid chunk extension');
          else if (++this.lineBytes > MAX_LINE_BYTES) this.fail('chunk extension too long');
          break;
        case S.SizeLf:
          if (c !== 0x0a) this.fail('chunk size line must end with CRLF');
          this.digits = 0;
          if (this.remaining === 0) {
            this.state = S.TrailerStart;
          } else {
            this.state = S.Data;
          }
          break;
        case S.DataCr:
          if (c !== 0x0d) this.fail('chunk data must end with CRLF');
          this.state = S.DataLf;
          break;
        case S.DataLf:
          if (c !== 0x0a) this.fail('chunk data must end with CRLF');
          this.state = S.Size;
          break;
        case S.TrailerStart:
          if (c === 0x0d) {
            this.state = S.EndLf;
          } else {
            this.state = S.Trailer;
            this.lineBytes = 0;
            this.trailerByte(c);
          }
          break;
        case S.Trailer:
          this.trailerByte(c);
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

  private trailerByte(c: number): void {
    if (c === 0x0d) this.state = S.TrailerLf;
    else if (c === 0x0a || c === 0x00) this.fail('invalid trailer line');
    else if (++this.lineBytes > MAX_LINE_BYTES || ++this.trailerBytes > MAX_TRAILER_BYTES) this.fail('trailers too large');
  }
}
