// Outbound calls for one intercept: one outbound session with a sidecar where the intercept holds its
// claim, an HTTP proxy for the program's HTTP(S) calls, and a local forward for each Service address
// its environment names. Everything listens on 127.0.0.1 and lives until `close`.
import type { Duplex } from 'node:stream';
import { LocalForward } from './local-forward';
import { OutboundClient } from './outbound-client';
import { OutboundHttpProxy } from './outbound-http-proxy';

export interface InterceptOutboundOptions {
  /** Opens a byte stream to the control port of a sidecar where the claim is held. */
  readonly dial: () => Promise<Duplex>;
  /** The claim's lease. */
  readonly lease: string;
  /** The developer's header, added to plain-HTTP requests through the proxy that lack it. */
  readonly propagate?: { readonly header: string; readonly value: string };
  /** A connection could not be opened; `destination` is `host:port`. */
  readonly onError?: (destination: string, err: Error) => void;
}

export class InterceptOutbound {
  private readonly client: OutboundClient;
  private readonly proxy: OutboundHttpProxy;
  private readonly forwards = new Map<string, Promise<LocalForward>>();
  private started: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: InterceptOutboundOptions) {
    this.client = new OutboundClient({ dial: opts.dial, lease: opts.lease });
    const open = (host: string, port: number) => this.client.open(host, port);
    this.proxy = new OutboundHttpProxy({
      open,
      ...(opts.propagate ? { propagate: opts.propagate } : {}),
      onError: (err, destination) => opts.onError?.(destination, err),
    });
  }

  /** Opens the session and the proxy; rejects with an OutboundError when the sidecar refuses. Once. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.client.start();
      await this.proxy.listen();
    })();
    return this.started;
  }

  /** The HTTP proxy's port on 127.0.0.1 (after `start`). */
  get proxyPort(): number {
    return this.proxy.port;
  }

  /**
   * The local port standing for `host:port` in the pod's network; one listener per destination, on
   * `localPort` when given (and free) for the first caller, on a free port otherwise.
   */
  async forward(host: string, port: number, localPort = 0): Promise<number> {
    if (this.closed) throw new Error('the outbound connections of this intercept are closed');
    await this.start();
    const key = `${host}:${port}`;
    let forward = this.forwards.get(key);
    if (!forward) {
      const f = new LocalForward({ open: (h, p) => this.client.open(h, p), host, port, localPort, onError: (err) => this.opts.onError?.(key, err) });
      forward = f.listen().then(() => f);
      this.forwards.set(key, forward);
      forward.catch(() => this.forwards.delete(key)); // a taken port: the next caller tries again
    }
    return (await forward).port;
  }

  /** `host:port` → local port, of every forward listening. */
  async listening(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [key, f] of this.forwards) out.set(key, (await f).port);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const forwards = await Promise.allSettled([...this.forwards.values()]);
    await Promise.all(forwards.map(async (f) => (f.status === 'fulfilled' ? f.value.close() : undefined)));
    await this.proxy.close();
    await this.client.close();
  }
}
