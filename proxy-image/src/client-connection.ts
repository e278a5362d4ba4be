// One client connection on a listen port. The sidecar reads each request head, decides its route
// (the app in this pod, or the tunnel of the developer whose claim it carries) and then moves the
// original bytes: the head as received, the body as received, the response as the server sent it.
// Nothing is re-encoded, so what reaches the app is exactly what the client sent, and what reaches
// the client is exactly what the app answered. Heads and chunk framing are parsed only to know where
// each message ends, so that the next request on a keep-alive connection is routed on its own.
import type * as Http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { Defaults } from '../../src/protocol/constants';
import { BodyReader } from '../../src/protocol/http1/body';
import { HeadScanner, HttpParseError, parseRequestHead, parseResponseHead, type BodyFraming, type RequestHead, type ResponseHead } from '../../src/protocol/http1/head';
import { logPath } from '../../src/protocol/log-path';
import type { ClaimEntry, ClaimRegistry, PendingRoute, Route } from './claims';
import { detectProtocol } from './detect-protocol';
import { outOfFdsCode, type FdExhaustionWarning } from './fd-exhaustion';
import type { Logger } from './log';
import { matchClaim } from './match';
import { errorResponse } from './responses';
import type { Sweepable, Sweeper } from './sweeper';
import { http2 } from './tunnel-modules';
import { StreamOpenError, type TunnelSession } from './tunnel-session';

export interface ProxyContext {
  readonly listenPort: number;
  readonly appPort: number;
  readonly appHost: string;
  readonly registry: ClaimRegistry<TunnelSession>;
  readonly log: Logger;
  readonly maxHeaderBytes: number;
  readonly sweeper: Sweeper;
  readonly graceMs: number;
  readonly fdWarning: FdExhaustionWarning;
  /** Called once the client socket has closed. */
  readonly onClosed: (conn: ClientConnection) => void;
}

type Phase = 'detect' | 'head' | 'route' | 'exchange' | 'raw' | 'closed';

/** A response head larger than this is refused (502): no server needs it, and memory stays bounded. */
const MAX_RESPONSE_HEAD = 64 * 1024;
/** After the last bytes of a closing connection, how long the client may take to read them. */
const CLOSE_LINGER_MS = 2000;

/** A connection to the app, or a CONNECT stream in a developer's tunnel. */
class Upstream {
  /** No longer used for new requests. */
  dead = false;
  /** The other side ended cleanly (FIN, or END_STREAM). */
  ended = false;
  /** Let go of: our side ended (or aborted). */
  retired = false;
  constructor(
    readonly stream: Duplex,
    readonly session: TunnelSession | null,
  ) {}
}

/** The upstream closed without ending cleanly: a reset, an aborted stream, a dropped tunnel. */
const ABORTED = new Error('closed without a clean end');

/**
 * How long the app connection opened at accept waits for a server-first app to greet. After that a
 * client that still sent nothing (a pooled connection) holds no app connection: one is opened when
 * its first request comes.
 */
export const SERVER_FIRST_WINDOW_MS = 1000;

/** How many times a request whose tunnel went away before it was sent looks for the claim's new tunnel. */
const MAX_REROUTES = 3;

// One set of listeners for every client socket instead of five closures per connection: each of
// the thousands of idle keep-alive connections a sidecar may hold costs that much less. The socket
// carries its connection under OWNER.
const OWNER = Symbol('intercept.connection');
type OwnedSocket = net.Socket & { [OWNER]: ClientConnection };
function socketData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER].onClientData(chunk);
}
function socketEnd(this: OwnedSocket): void {
  this[OWNER].onClientEnd();
}
function socketError(this: OwnedSocket): void {
  this[OWNER].onClientError();
}
function socketClose(this: OwnedSocket): void {
  this[OWNER].onClientClose();
}
function socketDrain(this: OwnedSocket): void {
  this[OWNER].onClientDrain();
}

/** The body reader of every message without a body: it has nothing to read, so it never changes. */
const NO_BODY_READER = new BodyReader({ kind: 'none' }, 400);

function bodyReader(framing: BodyFraming, errorStatus: number): BodyReader {
  return framing.kind === 'none' ? NO_BODY_READER : new BodyReader(framing, errorStatus);
}

export class ClientConnection implements Sweepable {
  sweepSince = -1;
  sweepListed = false;
  private phase: Phase = 'detect';
  private inbuf: Buffer | null = null;
  private readonly requestHead = new HeadScanner('request');
  private readonly responseHead = new HeadScanner('response');

  private app: Upstream | null = null;
  /** Made on the first tunnel stream: most connections never use one. */
  private tunnels: Map<TunnelSession, Upstream> | null = null;

  // The current exchange.
  private req: RequestHead | null = null;
  private reqBody: BodyReader | null = null;
  private up: Upstream | null = null;
  /** The claim the current request carries: a tunnel's, or an announced one until its tunnel comes. */
  private record: ClaimEntry<TunnelSession> | null = null;
  /** The current request waits for its claim's tunnel. */
  private pendingRoute: PendingRoute<TunnelSession> | null = null;
  private resp: ResponseHead | null = null;
  private respBody: BodyReader | null = null;
  private respHeadBuf: Buffer | null = null;
  private responseStarted = false;
  private responseDone = false;
  private clientEnded = false;
  private draining = false;
  private started = 0;
  /** No request has begun on this connection yet: the head timeout runs from the accept. */
  private fresh = true;

  private upstreamFull = false;
  /** Upstreams paused because the client reads slower than they send; made when first needed. */
  private pausedUps: Set<Upstream> | null = null;

  constructor(
    private readonly client: net.Socket,
    private readonly ctx: ProxyContext,
  ) {
    (client as OwnedSocket)[OWNER] = this;
    client.on('data', socketData);
    client.on('end', socketEnd);
    client.on('error', socketError);
    client.on('close', socketClose);
    client.on('drain', socketDrain);
    ctx.sweeper.watch(this);
    // Opened at once so that a server-first protocol (a banner) can speak before the client does.
    this.appUpstream();
  }

  /** Shutdown: close now if idle, otherwise after the exchange in flight. */
  drain(): void {
    this.draining = true;
    if ((this.phase === 'head' || this.phase === 'detect') && this.inbuf === null) this.destroy();
  }

  /** End of the shutdown: whatever is still open is cut. */
  abort(): void {
    this.destroy();
  }

  /** Waiting for a request head: a new connection, or part of a head arrived. Idle keep-alive is not. */
  get awaitingHead(): boolean {
    return this.fresh || this.inbuf !== null;
  }

  onHeadTimeout(): void {
    this.fail(408, 'Intercept: the request head did not arrive in time.');
  }

  onIdleTimeout(): void {
    this.destroy();
  }

  onQuiet(): void {
    // Neither side spoke: no server-first app is behind this port, so let go of the early connection.
    if (this.phase !== 'detect' || this.inbuf !== null || this.app === null) return;
    this.retire(this.app);
  }

  // ---- client side ------------------------------------------------------------------------------

  // Listeners of the client socket (see socketData and the others above).

  onClientData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.inbuf === null) {
      this.inbuf = chunk;
      if (this.phase === 'head') this.ctx.sweeper.watch(this); // the head clock starts with the head's first byte
    } else {
      this.inbuf = Buffer.concat([this.inbuf, chunk]);
    }
    this.pump();
    if (this.inbuf !== null) this.syncClientFlow();
  }

  onClientEnd(): void {
    this.clientEnded = true;
    // A request still waiting for its route, or whose body is complete, is answered, and the
    // half-close is passed on after it, as the client made it; a half-sent request or head cannot be
    // completed.
    if (this.phase === 'head' || this.phase === 'detect') this.destroy();
    else if (this.phase === 'exchange' && !this.reqBody!.done && this.inbuf === null) this.destroy();
    else this.passClientEnd();
  }

  onClientError(): void {
    this.destroy();
  }

  onClientClose(): void {
    this.destroy();
    this.ctx.onClosed(this);
  }

  onClientDrain(): void {
    if (this.pausedUps === null) return;
    for (const up of this.pausedUps) if (!up.dead) up.stream.resume();
    this.pausedUps.clear();
  }

  /**
   * Reads the client only when its bytes can go somewhere. A client whose request is complete is
   * paused only once more of its bytes came (a pipelined request; at most one read is held): pausing
   * and resuming around every exchange would cost more than the rest of its handling.
   */
  private syncClientFlow(): void {
    if (this.phase === 'closed' || this.phase === 'raw') return;
    const reading = !this.upstreamFull && (this.phase === 'head' || this.phase === 'detect' || (this.phase === 'exchange' && !this.reqBody!.done));
    if (reading) this.client.resume();
    else if (this.upstreamFull || this.inbuf !== null) this.client.pause();
  }

  private pump(): void {
    for (;;) {
      switch (this.phase) {
        case 'detect': {
          if (this.inbuf === null) return;
          const kind = detectProtocol(this.inbuf);
          if (kind === 'wait') return;
          if (kind === 'raw') {
            this.passThrough();
            return;
          }
          this.phase = 'head';
          continue;
        }
        case 'head':
          if (!this.readHead()) return;
          continue;
        case 'exchange':
          if (!this.forwardRequestBody()) return;
          continue;
        default:
          return;
      }
    }
  }

  /** Parses the next request head; returns true when an exchange started and the loop goes on. */
  private readHead(): boolean {
    let buf = this.inbuf;
    if (buf === null) return false;
    // Empty lines (CRLF) before a request line may be skipped (RFC 9112 §2.2): a client may send a
    // stray CRLF after a body, or before its first request. A bare LF or CR is refused below.
    let start = 0;
    while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    if (start > 0) {
      buf = start === buf.length ? null : buf.subarray(start);
      this.inbuf = buf;
      this.requestHead.reset();
      if (buf === null) return false;
    }
    let end: number;
    try {
      end = this.requestHead.find(buf, 0);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      this.fail(err.status, `Intercept: ${err.message}.`);
      return false;
    }
    if (end < 0) {
      if (this.clientEnded) this.destroy(); // the rest of this head will never come
      else if (buf.length > this.ctx.maxHeaderBytes) this.fail(431, 'Intercept: the request head is larger than this service accepts.');
      return false;
    }
    if (end > this.ctx.maxHeaderBytes) {
      this.fail(431, 'Intercept: the request head is larger than this service accepts.');
      return false;
    }
    // Only the fields a claim can be in are kept (none when this port has no claim), besides framing.
    const table = this.ctx.registry.table(this.ctx.listenPort);
    let req: RequestHead;
    try {
      req = parseRequestHead(buf, 0, end, table === undefined ? 'framing' : this.ctx.registry.claimFieldNames(this.ctx.listenPort)!);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      this.fail(err.status, `Intercept: ${err.message}.`);
      return false;
    }
    this.ctx.sweeper.unwatch(this);
    this.fresh = false;
    const head = buf.subarray(0, end);
    this.inbuf = end === buf.length ? null : buf.subarray(end);
    this.req = req;
    this.reqBody = bodyReader(req.framing, 400);
    this.resp = null;
    this.respBody = null;
    this.respHeadBuf = null;
    this.responseHead.reset();
    this.responseStarted = false;
    this.responseDone = false;
    if (this.ctx.log.debugEnabled) this.started = Date.now(); // only the debug log reads it
    this.record = null;

    const record = table === undefined ? undefined : matchClaim(table, req.headers);
    if (record === undefined) {
      this.begin(this.appUpstream(), head);
      return true;
    }
    this.record = record;
    this.phase = 'route';
    this.syncClientFlow();
    this.findRoute(head, 0);
    return (this.phase as Phase) === 'exchange';
  }

  /** Routes the current claimed request: now if its tunnel is there, or once it is back or gone. */
  private findRoute(head: Buffer, reroutes: number): void {
    const route = this.ctx.registry.route(this.record!);
    if (!('wait' in route)) {
      this.routeTo(route, head, reroutes);
      return;
    }
    this.pendingRoute = route;
    if (this.ctx.log.debugEnabled) {
      const r = this.record!;
      this.ctx.log.debug('request waits for the tunnel of its claim', {
        path: logPath(this.req!.target),
        port: r.port,
        header: r.header,
        value: r.value,
        developer: r.developer,
        state: r.kind === 'announced' ? 'announced' : 'grace',
      });
    }
    route.wait.then(
      (r) => {
        this.pendingRoute = null;
        this.routeTo(r, head, reroutes);
        if (this.phase === 'exchange') this.pump();
      },
      (err: Error) => this.internalError(err),
    );
  }

  private routeTo(route: Route<TunnelSession>, head: Buffer, reroutes: number): void {
    if (this.phase !== 'route') return; // the client went away while the request waited
    if (route.kind === 'released') {
      // The holder released the claim (or its announcement ended) while this request was on its way: it is unclaimed now.
      this.record = null;
      this.begin(this.appUpstream(), head);
      return;
    }
    if (route.kind === 'expired') {
      const r = route.record;
      this.fail(
        503,
        `Intercept: the tunnel of developer "${r.developer}" for "${r.header}: ${r.value}" is gone and did not ` +
          `come back within ${this.graceSeconds()} s; the claim was released. Requests without this header still reach the service.`,
      );
      return;
    }
    if (route.kind === 'unreached') {
      // An announced claim is active: its request must not reach the app, even though its tunnel is not here.
      const r = route.record;
      this.fail(
        503,
        `Intercept: the tunnel of developer "${r.developer}" for "${r.header}: ${r.value}" has not reached this pod ` +
          `within ${this.graceSeconds()} s; the claim is active, so the request was not sent to the service. Requests without this header still reach the service.`,
      );
      return;
    }
    const record = route.record;
    this.record = record;
    const session = route.link;
    const cached = this.tunnels?.get(session);
    if (cached !== undefined && !cached.dead) {
      this.begin(cached, head);
      return;
    }
    session.openStream(this.ctx.listenPort).then(
      (stream) => {
        const up = this.adopt(stream, session);
        if (this.phase !== 'route') {
          this.retire(up);
          return;
        }
        (this.tunnels ??= new Map()).set(session, up);
        this.begin(up, head);
        this.pump();
      },
      (err: unknown) => {
        if (!(err instanceof StreamOpenError)) {
          this.internalError(err as Error);
          return;
        }
        if (this.phase !== 'route') return;
        // Nothing was sent yet: a tunnel that went away (replaced by the holder's new one, or dropped
        // into its grace period) is not this request's end; it follows the claim.
        if (err.kind === 'tunnel-gone' && reroutes < MAX_REROUTES && record.link !== session) {
          this.findRoute(head, reroutes + 1);
          return;
        }
        if (err.kind === 'local-refused') {
          this.fail(
            502,
            `Intercept: nothing listens on ${err.localAddress ?? 'the local port'} on the machine of developer "${record.developer}", ` +
              `who intercepts "${record.header}: ${record.value}". Start the program being debugged there, or stop the intercept.`,
          );
        } else {
          this.fail(502, `Intercept: the tunnel of developer "${record.developer}" for "${record.header}: ${record.value}" failed: ${err.message}.`);
        }
      },
    );
  }

  private begin(up: Upstream, head: Buffer): void {
    this.up = up;
    this.phase = 'exchange';
    this.writeUpstream(head);
    this.passClientEnd();
    this.syncClientFlow();
  }

  /**
   * The client half-closed: once every byte it sent before is with the upstream, the upstream gets
   * the half-close too (FIN, or END_STREAM in a tunnel), so a server sees a client that went away
   * at once, even one stopped at a breakpoint.
   */
  private passClientEnd(): void {
    if (!this.clientEnded || this.inbuf !== null || this.phase !== 'exchange' || !this.reqBody!.done) return;
    const stream = this.up!.stream;
    if (!stream.writableEnded && !stream.destroyed) stream.end();
  }

  /** Moves request body bytes to the upstream; returns true when the exchange finished and the loop goes on. */
  private forwardRequestBody(): boolean {
    const body = this.reqBody!;
    if (!body.done && this.inbuf !== null) {
      const buf = this.inbuf;
      let n: number;
      try {
        n = body.consume(buf, 0, buf.length);
      } catch (err) {
        if (!(err instanceof HttpParseError)) throw err;
        this.fail(400, `Intercept: ${err.message}.`);
        return false;
      }
      this.inbuf = n === buf.length ? null : buf.subarray(n);
      if (n > 0) this.writeUpstream(n === buf.length ? buf : buf.subarray(0, n));
      if (body.done) {
        this.passClientEnd();
        this.syncClientFlow();
      }
      else if (this.clientEnded && this.inbuf === null) {
        this.destroy();
        return false;
      }
    }
    if (body.done && this.responseDone) return this.finishExchange();
    return false;
  }

  private writeUpstream(data: Buffer): void {
    if (!this.up!.stream.write(data) && !this.upstreamFull) {
      this.upstreamFull = true;
      const up = this.up!;
      up.stream.once('drain', () => {
        this.upstreamFull = false;
        this.syncClientFlow();
      });
      this.syncClientFlow();
    }
  }

  private writeClient(data: Buffer): void {
    if (!this.client.write(data)) {
      const up = this.up!;
      up.stream.pause();
      (this.pausedUps ??= new Set()).add(up);
    }
  }

  /** Both directions of the exchange are complete. Returns true when the connection goes on. */
  private finishExchange(): boolean {
    const req = this.req!;
    const resp = this.resp!;
    if (this.ctx.log.debugEnabled) {
      this.ctx.log.debug('request', {
        method: req.method,
        path: logPath(req.target),
        route: this.record === null ? 'app' : 'tunnel',
        developer: this.record?.developer,
        status: resp.status,
        ms: Date.now() - this.started,
      });
    }
    this.up = null;
    // A client that half-closed after pipelining still gets answers to the requests it sent.
    if (!req.keepAlive || !resp.keepAlive || this.draining || (this.clientEnded && this.inbuf === null)) {
      this.phase = 'closed';
      this.releaseUpstreams();
      this.endClient();
      return false;
    }
    this.phase = 'head';
    this.responseStarted = false;
    // An idle keep-alive connection keeps nothing of the exchange it finished: no parsed heads, and
    // no claim record (which would keep a released tunnel's objects alive).
    this.req = null;
    this.reqBody = null;
    this.resp = null;
    this.respBody = null;
    this.record = null;
    this.ctx.sweeper.watch(this);
    this.syncClientFlow();
    return true;
  }

  // ---- upstream side ----------------------------------------------------------------------------

  private appUpstream(): Upstream {
    if (this.app !== null && !this.app.dead) return this.app;
    const socket = net.connect({ host: this.ctx.appHost, port: this.ctx.appPort, noDelay: true });
    socket.once('error', (err) => {
      const code = outOfFdsCode(err);
      if (code !== undefined) this.ctx.fdWarning.report('connecting to the app', code);
    });
    this.app = this.adopt(socket, null);
    return this.app;
  }

  private adopt(stream: Duplex, session: TunnelSession | null): Upstream {
    const up = new Upstream(stream, session);
    stream.on('data', (chunk: Buffer) => this.onUpstreamData(up, chunk));
    stream.on('end', () => {
      up.ended = endedCleanly(up);
      this.onUpstreamGone(up, up.ended ? null : ABORTED);
    });
    stream.on('error', (err: Error) => this.onUpstreamGone(up, err));
    stream.on('close', () => this.onUpstreamGone(up, up.ended ? null : ABORTED));
    return up;
  }

  private onUpstreamData(up: Upstream, chunk: Buffer): void {
    if (up.retired) return; // a retired stream's last bytes are read only to let it end cleanly
    if (up === this.app && this.phase === 'detect' && this.inbuf === null) {
      // The app spoke before the client: a server-first protocol, passed through byte for byte.
      this.up = up;
      this.switchToRaw(up, chunk);
      return;
    }
    if (this.up !== up || this.phase !== 'exchange' || this.responseDone) {
      this.retire(up, true); // bytes nobody asked for: this connection can no longer be trusted
      return;
    }
    let buf = chunk;
    let start = 0;
    if (this.resp === null) {
      if (this.respHeadBuf !== null) {
        buf = Buffer.concat([this.respHeadBuf, chunk]);
        this.respHeadBuf = null;
      }
      for (;;) {
        let end: number;
        try {
          end = this.responseHead.find(buf, start);
        } catch (err) {
          if (!(err instanceof HttpParseError)) throw err;
          this.upstreamFailed(`invalid response: ${err.message}`);
          return;
        }
        if (end < 0) {
          if (buf.length - start > MAX_RESPONSE_HEAD) {
            this.upstreamFailed('the response head is too large');
            return;
          }
          if (start < buf.length) this.respHeadBuf = buf.subarray(start);
          if (start > 0) this.writeClient(buf.subarray(0, start));
          return;
        }
        let resp: ResponseHead;
        try {
          resp = parseResponseHead(buf, start, end, this.req!.method);
        } catch (err) {
          if (!(err instanceof HttpParseError)) throw err;
          this.upstreamFailed(`invalid response: ${err.message}`);
          return;
        }
        if ((resp.status === 101 && this.req!.wantsTunnel) || (this.req!.method === 'CONNECT' && resp.status >= 200 && resp.status < 300)) {
          this.resp = resp;
          this.responseStarted = true;
          this.switchToRaw(up, buf);
          return;
        }
        if (resp.status < 200) {
          start = end; // informational: forwarded, then the final response follows
          this.responseStarted = true;
          continue;
        }
        this.resp = resp;
        this.respBody = bodyReader(resp.framing, 502);
        start = end;
        break;
      }
    }
    let n: number;
    try {
      n = this.respBody!.consume(buf, start, buf.length);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      this.upstreamFailed(`invalid response body: ${err.message}`);
      return;
    }
    // Heads (informational and final) and body go out in one write: nothing before `to` was written yet.
    const to = start + n;
    this.responseStarted = true;
    if (to > 0) this.writeClient(to === buf.length ? buf : buf.subarray(0, to));
    if (to < buf.length) this.retire(up, true); // bytes after the response: not a server to keep using
    if (this.respBody!.done) this.onResponseDone(up);
  }

  private onResponseDone(up: Upstream): void {
    this.responseDone = true;
    if (!this.resp!.keepAlive) this.retire(up);
    if (this.reqBody!.done) {
      if (this.finishExchange()) this.pump();
    }
  }

  private onUpstreamGone(up: Upstream, err: Error | null): void {
    const wasDead = up.dead;
    this.forget(up);
    if (this.up !== up || this.phase !== 'exchange' || this.responseDone) {
      // An idle upstream that ended: end our side too, so that a tunnel stream closes cleanly.
      if (err === null) this.retire(up);
      return;
    }
    if (this.resp !== null && this.respBody!.framing.kind === 'close' && err === null && up.ended) {
      if (wasDead) return;
      this.clientEnded = true; // a close-delimited body ends the connection as well
      this.responseDone = true;
      if (this.reqBody!.done) this.finishExchange();
      else this.destroy();
      return;
    }
    if (this.responseStarted) {
      this.cut(); // a cut response must reach the client as a cut connection
      return;
    }
    if (up.session === null) {
      const app = `${this.ctx.appHost}:${this.ctx.appPort}`;
      const code = err === null ? undefined : (err as NodeJS.ErrnoException).code;
      const outOfFds = outOfFdsCode(err);
      this.fail(
        502,
        code === 'ECONNREFUSED'
          ? `Intercept: nothing listens on the app's port ${app} in this pod.`
          : outOfFds !== undefined
            ? `Intercept: the sidecar is out of file descriptors (${outOfFds}), so it could not connect to the app at ${app}. ` +
              'The app is not at fault; the sidecar serves again as its connections close.'
            : `Intercept: the app at ${app} closed the connection without answering${code ? ` (${code})` : ''}.`,
      );
    } else {
      const r = this.record;
      this.fail(502, `Intercept: the tunnel of developer "${r?.developer ?? '?'}" closed before the request was answered.`);
    }
  }

  private upstreamFailed(reason: string): void {
    const who = this.up?.session === null ? `the app at ${this.ctx.appHost}:${this.ctx.appPort}` : `the program of developer "${this.record?.developer ?? '?'}"`;
    if (this.up !== null) this.retire(this.up, true);
    if (this.responseStarted) this.cut();
    else this.fail(502, `Intercept: ${who} sent ${reason}.`);
  }

  /** After a 101 or a CONNECT 2xx, and for connections that are not HTTP/1.x: bytes both ways. */
  private switchToRaw(up: Upstream, firstBytes: Buffer | null): void {
    this.phase = 'raw';
    this.ctx.sweeper.unwatch(this);
    this.forget(up);
    this.releaseUpstreams();
    up.stream.removeAllListeners('data');
    up.stream.removeAllListeners('end');
    this.client.off('data', socketData);
    this.client.off('drain', socketDrain);
    if (firstBytes !== null) this.client.write(firstBytes);
    if (this.inbuf !== null) up.stream.write(this.inbuf);
    this.inbuf = null;
    this.client.pipe(up.stream);
    // The upstream's clean end is passed on as a FIN; a reset, an aborted stream, a tunnel gone, as a reset.
    up.stream.on('end', () => {
      up.ended = endedCleanly(up);
      if (up.ended) this.client.end();
      else this.cut();
    });
    up.stream.pipe(this.client, { end: false });
    this.client.resume();
    up.stream.resume();
    // The upstream is gone: let what it sent last reach the client, then end.
    up.stream.on('close', () => {
      if (!up.ended) this.cut();
      else if (this.client.writableEnded) setTimeout(() => this.destroy(), CLOSE_LINGER_MS).unref();
      else this.destroy();
    });
    this.up = up;
  }

  private passThrough(): void {
    this.up = this.appUpstream();
    this.switchToRaw(this.up, null);
  }

  // ---- endings ----------------------------------------------------------------------------------

  /** Answers with a generated error and closes; the client may still be sending, so linger briefly. */
  private fail(status: number, body: string): void {
    if (this.phase === 'closed') return;
    if (this.responseStarted) {
      this.cut();
      return;
    }
    this.phase = 'closed';
    this.ctx.sweeper.unwatch(this);
    this.stopWaiting();
    this.releaseUpstreams();
    if (this.up !== null) this.retire(this.up, true);
    this.inbuf = null;
    this.endClient(errorResponse(status, body));
    if (this.ctx.log.debugEnabled) this.ctx.log.debug('request refused', { status, reason: body });
  }

  /** Sends the last bytes and a FIN; discards what the client still sends, and lets go after a while. */
  private endClient(last?: Buffer): void {
    this.client.off('data', socketData);
    this.client.on('data', () => undefined);
    this.client.resume();
    const linger = (): void => void setTimeout(() => this.client.destroy(), CLOSE_LINGER_MS).unref();
    if (last === undefined) this.client.end(linger);
    else this.client.end(last, linger);
  }

  /** A request that waited for its claim's tunnel is gone: the registry lets go of it. */
  private stopWaiting(): void {
    this.pendingRoute?.cancel();
    this.pendingRoute = null;
  }

  private graceSeconds(): number {
    return Math.round(this.ctx.graceMs / 1000);
  }

  private internalError(err: Error): void {
    this.ctx.log.error('internal error', { error: err.message });
    this.fail(502, 'Intercept: internal error in the sidecar.');
  }

  /**
   * Lets go of an upstream. A tunnel stream is ended with END_STREAM, and its peer's end is awaited
   * (bounded) so that it closes without a reset: HTTP/2 peers treat many resets as an attack and end
   * the whole session. `abort` resets instead: for what was cut or cannot be trusted.
   */
  private retire(up: Upstream, abort = false): void {
    this.forget(up);
    if (up.retired) {
      if (abort && !up.stream.destroyed) abortStream(up);
      return;
    }
    up.retired = true;
    if (abort || up.session === null) abortStream(up);
    else endStream(up.stream as Http2.ClientHttp2Stream);
  }

  /** No new request goes to `up`: it is no longer this connection's app connection or tunnel stream. */
  private forget(up: Upstream): void {
    up.dead = true;
    if (this.app === up) this.app = null;
    if (up.session !== null && this.tunnels?.get(up.session) === up) this.tunnels.delete(up.session);
  }

  private releaseUpstreams(): void {
    if (this.app !== null && this.app !== this.up) this.retire(this.app);
    if (this.tunnels !== null) for (const up of [...this.tunnels.values()]) if (up !== this.up) this.retire(up);
  }

  /** Ends the connection and its upstreams at once; whatever is in flight is cut. */
  private destroy(): void {
    if (this.phase === 'closed' && this.client.destroyed) return;
    this.close();
    this.client.destroy();
  }

  /** Resets the client connection: a response cut short must never look whole to the client. */
  private cut(): void {
    if (this.client.destroyed) return;
    this.close();
    // A socket whose FIN is already sent cannot be reset (and its handle would not close).
    if (this.client.writableEnded) this.client.destroy();
    else this.client.resetAndDestroy();
  }

  private close(): void {
    this.phase = 'closed';
    this.ctx.sweeper.unwatch(this);
    this.inbuf = null;
    this.stopWaiting();
    if (this.up !== null) this.retire(this.up, !this.exchangeComplete());
    this.releaseUpstreams();
  }

  private exchangeComplete(): boolean {
    return this.responseDone && (this.reqBody?.done ?? true);
  }
}

/**
 * Node ends a tunnel stream's readable side also when the stream was reset or its tunnel went away;
 * only an end with no error code, on a tunnel that still stands, is the peer's END_STREAM.
 */
function endedCleanly(up: Upstream): boolean {
  if (up.session === null) return true;
  return !up.session.closed && ((up.stream as Http2.ClientHttp2Stream).rstCode ?? http2().constants.NGHTTP2_NO_ERROR) === http2().constants.NGHTTP2_NO_ERROR;
}

/** A TCP connection closes; a tunnel stream is reset with CANCEL. */
function abortStream(up: Upstream): void {
  if (up.session === null) up.stream.destroy();
  else (up.stream as Http2.ClientHttp2Stream).close(http2().constants.NGHTTP2_CANCEL);
}

/** Ends our side of a tunnel stream, reads and drops what the peer still sends until it ends its side. */
function endStream(stream: Http2.ClientHttp2Stream): void {
  if (stream.closed || stream.destroyed) return;
  stream.on('error', () => undefined);
  stream.resume();
  if (!stream.writableEnded) stream.end();
  const linger = setTimeout(() => stream.close(http2().constants.NGHTTP2_CANCEL), Defaults.streamLingerMs);
  linger.unref();
  stream.once('close', () => clearTimeout(linger));
}
