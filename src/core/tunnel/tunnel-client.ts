// The extension's side of one claim on one sidecar: dials the sidecar's control port (a TCP socket
// in tests, a Kubernetes port-forward in a cluster), claims the route with a WebSocket handshake,
// serves the HTTP/2 session that carries intercepted connections to the local port, reconnects with
// backoff after a drop (the sidecar keeps the claim for its grace period), and releases the claim
// when closed.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { checkClaim, checkDeveloper, type Claim } from '../../protocol/claim';
import { CLOSE_RELEASE, CLOSE_REPLACED, Defaults, HandshakeHeader, TUNNEL_PROTOCOL_VERSION } from '../../protocol/constants';
import { GoawayWatch } from '../../protocol/http2-goaway-watch';
import { webSocketStream } from '../../protocol/websocket-stream';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff';
import { TUNNEL_URL } from './dialed-request';
import { failureFromRefusal, TunnelError } from './errors';
import type { InterceptedRequest } from './exchange-observer';
import { serveTunnel, type LocalTarget } from './local-bridge';

export type TunnelState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface TunnelClientOptions {
  /** Opens a fresh byte stream to the sidecar's control port. */
  readonly dial: () => Promise<Duplex>;
  readonly claim: Claim;
  /** Who holds the claim, as teammates will see it in a refusal. */
  readonly developer: string;
  /** The sidecar listen port the claim is for; needed when the sidecar serves several. */
  readonly port?: number;
  /** Where intercepted connections go: the port the program being debugged listens on. */
  readonly local: LocalTarget;
  /** Kept across reconnects so the sidecar knows it is the same holder; random by default. */
  readonly lease?: string;
  readonly backoff?: BackoffOptions;
  readonly heartbeatMs?: number;
  readonly handshakeTimeoutMs?: number;
}

export interface TunnelClientEvents {
  state: [state: TunnelState];
  request: [request: InterceptedRequest];
  localError: [code: string, address: string];
  /** The tunnel ended for good while running, e.g. the claim was lost during a long drop. */
  failed: [error: TunnelError];
}

interface Connection {
  readonly ws: WebSocket;
  readonly session: http2.ServerHttp2Session;
  readonly heartbeat: NodeJS.Timeout;
}

const MAX_REFUSAL_BODY = 64 * 1024;
/** How long a release waits for the WebSocket's closing handshake. */
const RELEASE_TIMEOUT_MS = 2000;

export class TunnelClient extends EventEmitter<TunnelClientEvents> {
  private current: Connection | null = null;
  private stateValue: TunnelState = 'idle';
  private closing = false;
  /** The pod is going away: keep the claim while its sidecar serves, but never reconnect. */
  private abandoned = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;
  readonly lease: string;

  constructor(private readonly opts: TunnelClientOptions) {
    super();
    this.lease = opts.lease ?? randomBytes(18).toString('base64url');
  }

  get state(): TunnelState {
    return this.stateValue;
  }

  /** Connects and claims; rejects with a TunnelError saying why when the first attempt fails. */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle') throw new Error('a TunnelClient starts once');
    const problem = checkClaim(this.opts.claim.header, this.opts.claim.value) ?? checkDeveloper(this.opts.developer);
    if (problem !== undefined) {
      this.setState('closed');
      throw new TunnelError({ kind: 'bad-claim', message: `The claim's ${problem.field} ${problem.reason}.`, field: problem.field });
    }
    this.setState('connecting');
    try {
      this.attach(await this.connectOnce());
      if (!this.closing) this.setState('connected'); // close() during the handshake wins
    } catch (err) {
      this.setState('closed');
      throw err;
    }
  }

  /** Releases the claim and ends the tunnel. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    const conn = this.current;
    this.current = null;
    if (conn !== null) await this.release(conn);
    this.setState('closed');
  }

  /**
   * For a pod that is going away. Releasing would let its sidecar, which still serves while the
   * endpoints catch up, hand claimed requests to the app; so the tunnel stays until the sidecar ends
   * it (or `maxMs` passes, then it is released), and is never reopened. Resolves when it has ended.
   */
  async abandon(maxMs: number): Promise<void> {
    if (this.closing || this.abandoned) return;
    this.abandoned = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    const conn = this.current;
    if (conn === null) {
      this.closing = true;
      this.setState('closed');
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.close().then(resolve), maxMs);
      conn.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.closing = true;
    this.setState('closed');
  }

  private setState(state: TunnelState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private async connectOnce(): Promise<Connection> {
    let duplex: Duplex;
    try {
      duplex = await this.opts.dial();
    } catch (err) {
      throw new TunnelError({ kind: 'unreachable', message: `Cannot reach the sidecar's control port: ${(err as Error).message}` });
    }
    const { claim, developer, port } = this.opts;
    const headers: Record<string, string> = {
      [HandshakeHeader.protocol]: String(TUNNEL_PROTOCOL_VERSION),
      [HandshakeHeader.claimHeader]: claim.header,
      [HandshakeHeader.claimValue]: claim.value,
      [HandshakeHeader.developer]: developer,
      [HandshakeHeader.lease]: this.lease,
    };
    if (port !== undefined) headers[HandshakeHeader.port] = String(port);
    const ws = new WebSocket(TUNNEL_URL, {
      createConnection: () => duplex as net.Socket,
      headers,
      perMessageDeflate: false,
      maxPayload: Defaults.maxTunnelMessageBytes,
    });
    return new Promise<Connection>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new TunnelError({ kind: 'unreachable', message: 'The sidecar did not answer the tunnel handshake in time.' }));
      }, this.opts.handshakeTimeoutMs ?? 10_000);
      ws.once('open', () => {
        clearTimeout(timer);
        // A session that ended by its own GOAWAY (the sidecar sent garbage) is a drop: reconnect.
        const goaway = new GoawayWatch(0, () => setImmediate(() => ws.terminate()));
        const stream = webSocketStream(ws, { onWrite: (chunk) => goaway.observe(chunk) });
        stream.on('error', () => undefined); // the WebSocket's close drives reconnects
        const session = serveTunnel(stream, this.opts.local, {
          onRequest: (r) => this.emit('request', r),
          onLocalError: (code, address) => this.emit('localError', code, address),
        });
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
          reject(new TunnelError(failureFromRefusal(res.statusCode ?? 0, body)));
        });
        res.on('error', () => reject(new TunnelError({ kind: 'unreachable', message: 'The sidecar closed the handshake.' })));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(new TunnelError({ kind: 'unreachable', message: `Tunnel handshake failed: ${err.message}` }));
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
      void this.release(conn);
      return;
    }
    this.current = conn;
    conn.ws.on('error', () => undefined);
    // A session that failed ends the tunnel (and so reconnects); a release under way finishes.
    conn.session.once('close', () => {
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.terminate();
    });
    conn.ws.once('close', (code: number) => {
      clearInterval(conn.heartbeat);
      conn.session.destroy();
      if (this.current !== conn) return;
      this.current = null;
      if (this.abandoned) {
        this.setState('closed');
        return;
      }
      if (code === CLOSE_REPLACED) {
        // Another tunnel of this lease holds the claim now; taking it back would make the two fight.
        this.setState('closed');
        this.emit('failed', new TunnelError({ kind: 'replaced', message: 'A newer tunnel with the same lease took this claim over.' }));
        return;
      }
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    this.setState('reconnecting');
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    for (let attempt = 0; !this.closing && !this.abandoned; attempt++) {
      await new Promise<void>((resolve) => {
        this.wakeRetry = resolve;
        this.retryTimer = setTimeout(resolve, backoffDelay(attempt, backoff));
      });
      if (this.closing || this.abandoned) {
        if (this.abandoned) this.setState('closed');
        return;
      }
      try {
        const conn = await this.connectOnce();
        this.attach(conn);
        if (!this.closing) this.setState('connected');
        return;
      } catch (err) {
        if (err instanceof TunnelError && err.final) {
          this.setState('closed');
          this.emit('failed', err);
          return;
        }
      }
    }
  }

  private release(conn: Connection): Promise<void> {
    clearInterval(conn.heartbeat);
    return new Promise((resolve) => {
      if (conn.ws.readyState === WebSocket.CLOSED) {
        conn.session.destroy();
        resolve();
        return;
      }
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        conn.session.destroy();
        resolve();
      };
      // Bounded: a transport that never reports its close (a port-forward whose stream the API
      // server keeps open) must not hold up a release; the claim is released once the sidecar read
      // the close frame.
      const timer = setTimeout(() => {
        conn.ws.terminate();
        finish();
      }, RELEASE_TIMEOUT_MS);
      conn.ws.once('close', finish);
      conn.ws.close(CLOSE_RELEASE, 'release');
    });
  }
}
