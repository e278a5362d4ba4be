// Watches the frames that one's own HTTP/2 session writes, for a GOAWAY. When Node's HTTP/2 session
// receives garbage after it has started, nghttp2 answers with GOAWAY and stops reading, but Node emits
// no event and keeps the session open: a tunnel would look alive while it can carry nothing. Seeing
// our own GOAWAY go out is the one sure sign that the session has ended.

const FRAME_HEADER_BYTES = 9;
const GOAWAY = 0x07;
/** The client connection preface, sent before the first frame by the HTTP/2 client. */
export const CLIENT_PREFACE_BYTES = 24;

export class GoawayWatch {
  /** Bytes of the preface or of a frame's payload still to pass. */
  private skip: number;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private have = 0;
  private fired = false;

  constructor(
    prefaceBytes: number,
    private readonly onGoaway: () => void,
  ) {
    this.skip = prefaceBytes;
  }

  /** Feeds the bytes the session wrote, in order. */
  observe(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.fired) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(FRAME_HEADER_BYTES - this.have, chunk.length - i);
      chunk.copy(this.header, this.have, i, i + n);
      this.have += n;
      i += n;
      if (this.have < FRAME_HEADER_BYTES) return;
      this.have = 0;
      this.skip = this.header.readUIntBE(0, 3);
      if (this.header[3] === GOAWAY) {
        this.fired = true;
        this.onGoaway();
      }
    }
  }
}
