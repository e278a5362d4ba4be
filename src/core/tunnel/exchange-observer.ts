// Watches the bytes of one intercepted connection as they pass, to report each request (method,
// path, status, duration, bytes) to the UI. It never alters or holds back the bytes; when it cannot
// make sense of them (not HTTP, a protocol switch) it stops reporting for that connection.
import { BodyReader } from '../../protocol/http1/body';
import { HeadScanner, parseRequestHead, parseResponseHead } from '../../protocol/http1/head';
import { logPath } from '../../protocol/log-path';

export interface InterceptedRequest {
  /** When the request head arrived (ms since the epoch). */
  readonly time: number;
  readonly method: string;
  /** The request path, without what may carry secrets: userinfo, path parameters, query, fragment (see logPath). */
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  /** Bytes of request (head and body) sent to the local program. */
  readonly bytesIn: number;
  /** Bytes of response (head and body) sent back. */
  readonly bytesOut: number;
}

const MAX_HEAD = 64 * 1024;

interface OpenRequest {
  readonly time: number;
  readonly method: string;
  readonly path: string;
  bytesIn: number;
}

/** Splits one direction of the byte stream into messages: a head, then a body. */
class MessageStream {
  private pending: Buffer | null = null;
  private readonly head: HeadScanner;
  body: BodyReader | null = null;

  constructor(kind: 'request' | 'response') {
    this.head = new HeadScanner(kind);
  }

  /**
   * Calls `onHead` for each complete head (it returns the body's framing reader, or null to stop),
   * `onBytes` for every byte of a message, `onEnd` when a body ends.
   */
  feed(chunk: Buffer, onHead: (buf: Buffer, start: number, end: number) => BodyReader | null, onBytes: (n: number) => void, onEnd: () => void): boolean {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let i = 0;
    while (i < buf.length) {
      if (this.body === null) {
        const end = this.head.find(buf, i);
        if (end < 0) {
          if (buf.length - i > MAX_HEAD) throw new Error('head too large');
          this.pending = buf.subarray(i);
          return true;
        }
        const body = onHead(buf, i, end);
        if (body === null) return false;
        onBytes(end - i);
        i = end;
        this.body = body;
      }
      const n = this.body.consume(buf, i, buf.length);
      onBytes(n);
      i += n;
      if (this.body.done) {
        this.body = null;
        onEnd();
      }
    }
    // A message without a body ends with its head.
    if (this.body?.done) {
      this.body = null;
      onEnd();
    }
    return true;
  }
}

export class ExchangeObserver {
  private readonly requests = new MessageStream('request');
  private readonly responses = new MessageStream('response');
  private readonly open: OpenRequest[] = [];
  private status = 0;
  private bytesOut = 0;
  private stopped = false;

  constructor(
    private readonly report: (r: InterceptedRequest) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes going to the local program. */
  request(chunk: Buffer): void {
    if (this.stopped) return;
    this.guard(() =>
      this.requests.feed(
        chunk,
        (buf, start, end) => {
          const head = parseRequestHead(buf, start, end);
          this.open.push({ time: this.now(), method: head.method, path: logPath(head.target), bytesIn: 0 });
          return new BodyReader(head.framing, 400);
        },
        (n) => {
          const last = this.open.at(-1);
          if (last !== undefined) last.bytesIn += n;
        },
        () => undefined,
      ),
    );
  }

  /** Bytes coming back from the local program. */
  response(chunk: Buffer): void {
    if (this.stopped) return;
    this.guard(() =>
      this.responses.feed(
        chunk,
        (buf, start, end) => {
          const req = this.open[0];
          if (req === undefined) throw new Error('a response without a request');
          const head = parseResponseHead(buf, start, end, req.method);
          this.status = head.status;
          if (head.status === 101 || (req.method === 'CONNECT' && head.status < 300)) {
            this.bytesOut += end - start;
            this.finish();
            return null; // the connection now carries another protocol
          }
          return new BodyReader(head.framing, 502);
        },
        (n) => (this.bytesOut += n),
        () => {
          if (this.status >= 200) this.finish();
        },
      ),
    );
  }

  /** The local program closed its side: a close-delimited response ends here. */
  responseEnded(): void {
    if (!this.stopped && this.responses.body?.framing.kind === 'close') this.finish();
    this.stopped = true;
  }

  private guard(step: () => boolean): void {
    try {
      if (!step()) this.stopped = true;
    } catch {
      this.stopped = true;
    }
  }

  private finish(): void {
    const req = this.open.shift();
    const bytesOut = this.bytesOut;
    this.bytesOut = 0;
    if (req === undefined) return;
    this.report({ time: req.time, method: req.method, path: req.path, status: this.status, durationMs: this.now() - req.time, bytesIn: req.bytesIn, bytesOut });
  }
}
