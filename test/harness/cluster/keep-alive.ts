// Many HTTP/1.1 requests, one after another, over one kept-alive byte stream into a pod: the load
// tests need thousands of requests, and a fresh connection into a pod's namespace costs a process.
// Responses must carry Content-Length (the test app and the tests' local servers do).
import type { Duplex } from 'node:stream';

export interface KeptResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class KeepAliveClient {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private ended: Error | null = null;

  constructor(private readonly stream: Duplex) {
    stream.on('data', (c: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, c]);
      this.waiter?.();
    });
    const end = (err?: Error) => {
      this.ended ??= err ?? new Error('the connection closed');
      this.waiter?.();
    };
    stream.on('end', () => end());
    stream.on('close', () => end());
    stream.on('error', end);
  }

  private async more(deadline: number): Promise<void> {
    if (this.ended) throw this.ended;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no complete response within the time allowed')), Math.max(1, deadline - Date.now()));
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
    });
  }

  async request(method: string, path: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<KeptResponse> {
    const deadline = Date.now() + timeoutMs;
    const head = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
    this.stream.write(head);
    let end: number;
    while ((end = this.buffered.indexOf('\r\n\r\n')) < 0) await this.more(deadline);
    const lines = this.buffered.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const fields: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      fields[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(fields['content-length'] ?? NaN);
    if (!Number.isInteger(length)) throw new Error(`response without Content-Length (status ${status})`);
    while (this.buffered.length < end + 4 + length) await this.more(deadline);
    const body = this.buffered.subarray(end + 4, end + 4 + length);
    this.buffered = this.buffered.subarray(end + 4 + length);
    return { status, headers: fields, body: Buffer.from(body) };
  }

  close(): void {
    this.stream.destroy();
  }
}
