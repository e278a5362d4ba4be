// The laptop's side of an outbound session with one sidecar: dials the sidecar's control port (a
// port-forward in a cluster, a TCP socket in tests), opens the outbound endpoint with the lease of a
// claim held on that sidecar, and runs the HTTP/2 session in which the laptop is the client: each
// `open(host, port)` is one CONNECT stream that the sidecar dials from inside the pod. Reconnects
// with backoff after a drop; a sidecar that cannot serve outbound (too old, not enabled) ends it.
import { EventEmitter } from 'node:events';
import type * as http from 'node:http';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { Defaults, HandshakeHeader, OUTBOUND_PROTOCOL_VERSION, OutboundHeader } from '../../protocol/constants';
import { formatDestination } from '../../protocol/destination';
import { CLIENT_PREFACE_BYTES, GoawayWatch } from '../../protocol/http2-goaway-watch';
import { webSocketStream } from '../../protocol/websocket-stream';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../tunnel/backoff';
import { OUTBOUND_URL } from '../tunnel/dialed-request';
import { OutboundError, sessionRefusal, streamRefusal } from './outbound-error';

export type OutboundState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface OutboundClientOptions {
  /** Opens a fresh byte stream to the sidecar's control port. */
  readonly dial: () => Promise<Duplex>;
  /** The lease of a claim held on that sidecar (the TunnelClient's `lease`). */
  readonly lease: string;
  readonly backoff?: BackoffOptions;
  readonly heartbeatMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** How long `open` waits for a session (while reconnecting) and then for the sidecar's answer. */
  readonly openTimeoutMs?: number;
}

export interface OutboundClientEvents {
  state: [state: OutboundState];
  /** The session ended for good while running (e.g. the sidecar was replaced by one without outbound). */
  failed: [error: OutboundError];
}

interface Connection {
  readonly ws: WebSocket;
  readonly session: http2.ClientHttp2Session;
  readonly heartbeat: NodeJS.Timeout;
}

const STREAM_WINDOW = 1024 * 1024;
const MAX_REFUSAL_BODY = 64 * 1024;
const DEFAULT_OPEN_TIMEOUT_MS = 15_000;

export class OutboundClient extends EventEmitter<OutboundClientEvents> {
  private current: Connection | null = null;
  private stateValue: OutboundState = 'idle';
  private closing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;
  private lastError: OutboundError | null = null;

  constructor(private readonly opts: OutboundClientOptions) {
    super();
    this.setMaxListeners(0); // every open() waiting for a reconnect listens to 'state'
  }

  get state(): OutboundState {
    return this.stateValue;
  }

  /** Opens the session; rejects with an OutboundError saying why when the first attempt fails. */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error('an OutboundClient starts once');
    this.setState('connecting');
    try {
      this.attach(await this.connectOnce());
      if (!this.closing) this.setState('connected');
    } catch (err) {
      this.setState('closed');
      throw err;
    }
  }

  /** A stream to `host:port` dialed from the pod; rejects with an OutboundError saying why not. */
  async open(host: string, port: number): Promise<Duplex> {
    const dest = formatDestination(host, port);
    const timeoutMs = this.opts.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    const conn = await this.connection(timeoutMs);
    return new Promise<Duplex>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = conn.session.request({ ':method': 'CONNECT', ':authority': dest });
      } catch (err) {
        reject(new OutboundError('unreachable', `The outbound session cannot open a stream: ${(err as Error).message}`));
        return;
      }
      const settle = (): void => {
        clearTimeout(timer);
        stream.off('error', onGone);
        stream.off('close', onGone);
      };
      const onGone = (): void => {
        settle();
        reject(new OutboundError('unreachable', `The outbound session ended before the sidecar answered for ${dest}.`));
      };
      const timer = setTimeout(() => {
        settle();
        stream.on('error', () => undefined);
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new OutboundError('connect-timeout', `The sidecar did not answer for ${dest} within ${timeoutMs / 1000} s.`));
      }, timeoutMs);
      stream.once('error', onGone);
      stream.once('close', onGone);
      stream.once('response', (headers) => {
        settle();
        const status = Number(headers[':status']);
        if (status >= 200 && status < 300) {
          resolve(stream);
          return;
        }
        const one = (name: string): string | undefined => {
          const v = headers[name];
          return typeof v === 'string' ? v : undefined;
        };
        stream.on('error', () => undefined);
        stream.resume(); // the refusal ends the stream; ending ours lets it close without a reset
        stream.end();
        reject(streamRefusal(dest, status, one(OutboundHeader.error), one(OutboundHeader.errno)));
      });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    const conn = this.current;
    this.current = null;
    if (conn !== null) {
      clearInterval(conn.heartbeat);
      conn.session.destroy();
      const closed = new Promise<void>((resolve) => conn.ws.once('close', () => resolve()));
      conn.ws.close(1000, 'done');
      const timer = setTimeout(() => conn.ws.terminate(), 2000);
      await closed;
      clearTimeout(timer);
    }
    this.setState('closed');
  }

  /** The session now, or once a reconnect brings it back (within `timeoutMs`). */
  private connection(timeoutMs: number): Promise<Connection> {
    if (this.current !== null && this.stateValue === 'connected') return Promise.resolve(this.current);
    if (this.stateValue === 'closed' || this.stateValue === 'idle') {
      const why = this.lastError?.message ?? 'The outbound session is not open.';
      return Promise.reject(new OutboundError(this.lastError?.reason ?? 'closed', why));
    }
    return new Promise((resolve, reject) => {
      const onState = (): void => {
        if (this.stateValue === 'connected' && this.current !== null) {
          done();
          resolve(this.current);
        } else if (this.stateValue === 'closed') {
          done();
          reject(new OutboundError(this.lastError?.reason ?? 'closed', this.lastError?.message ?? 'The outbound session was closed.'));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new OutboundError('unreachable', `The outbound session did not come back within ${timeoutMs / 1000} s: ${this.lastError?.message ?? 'reconnecting'}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
      };
      this.on('state', onState);
    });
  }

  private setState(state: OutboundState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private async connectOnce(): Promise<Connection> {
    let duplex: Duplex;
    try {
      duplex = await this.opts.dial();
    } catch (err) {
      throw new OutboundError('unreachable', `Cannot reach the sidecar's control port: ${(err as Error).message}`);
    }
    const ws = new WebSocket(OUTBOUND_URL, {
      createConnection: () => duplex as net.Socket,
      headers: { [HandshakeHeader.protocol]: String(OUTBOUND_PROTOCOL_VERSION), [HandshakeHeader.lease]: this.opts.lease },
      perMessageDeflate: false,
      maxPayload: Defaults.maxTunnelMessageBytes,
    });
    return new Promise<Connection>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new OutboundError('unreachable', 'The sidecar did not answer the outbound handshake in time.'));
      }, this.opts.handshakeTimeoutMs ?? 10_000);
      ws.once('open', () => {
        clearTimeout(timer);
        // A session that ended by its own GOAWAY (the sidecar sent garbage) is a drop: reconnect.
        const goaway = new GoawayWatch(CLIENT_PREFACE_BYTES, () => setImmediate(() => ws.terminate()));
        const stream = webSocketStream(ws, { onWrite: (chunk) => goaway.observe(chunk) });
        stream.on('error', () => undefined);
        const session = http2.connect('http://intercept.outbound', {
          createConnection: () => stream,
          settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
        });
        session.on('error', () => undefined); // the WebSocket's close drives reconnects
        session.once('connect', () => session.setLocalWindowSize(8 * STREAM_WINDOW));
        resolve({ ws, session, heartbeat: this.startHeartbeat(ws) });
      });
      ws.once('unexpected-response', (req: http.ClientRequest, res: http.IncomingMessage) => {
        clearTimeout(timer);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_REFUSAL_BODY) body += chunk;
        });
        res.on('end', () => {
          req.destroy();
          reject(sessionRefusal(res.statusCode ?? 0, body));
        });
        res.on('error', () => reject(new OutboundError('unreachable', 'The sidecar closed the outbound handshake.')));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(new OutboundError('unreachable', `Outbound handshake failed: ${err.message}`));
      });
    });
  }

  private startHeartbeat(ws: WebSocket): NodeJS.Timeout {
    let alive = true;
    ws.on('pong', () => (alive = true));
    const timer = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, this.opts.heartbeatMs ?? Defaults.heartbeatMs);
    timer.unref();
    return timer;
  }

  private attach(conn: Connection): void {
    if (this.closing) {
      clearInterval(conn.heartbeat);
      conn.session.destroy();
      conn.ws.terminate();
      return;
    }
    this.current = conn;
    this.lastError = null;
    conn.ws.on('error', () => undefined);
    conn.session.once('close', () => {
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.terminate();
    });
    conn.ws.once('close', () => {
      clearInterval(conn.heartbeat);
      conn.session.destroy();
      if (this.current !== conn) return;
      this.current = null;
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    this.setState('reconnecting');
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    for (let attempt = 0; !this.closing; attempt++) {
      await new Promise<void>((resolve) => {
        this.wakeRetry = resolve;
        this.retryTimer = setTimeout(resolve, backoffDelay(attempt, backoff));
      });
      if (this.closing) return;
      try {
        this.attach(await this.connectOnce());
        if (!this.closing) this.setState('connected');
        return;
      } catch (err) {
        this.lastError = err instanceof OutboundError ? err : new OutboundError('unreachable', String(err));
        if (this.lastError.final) {
          this.setState('closed');
          this.emit('failed', this.lastError);
          return;
        }
      }
    }
  }
}
