// The sidecar's end of one developer's outbound session: after the WebSocket handshake on the outbound
// endpoint the socket carries one HTTP/2 session in which the DEVELOPER is the client (the tunnel's
// roles reversed: only an HTTP/2 client opens streams). Each CONNECT `host:port` stream is dialed from
// this pod, with its DNS, network policies and identity, and piped both ways; HTTP/2 flow control
// holds back a destination or a laptop that stops reading.
//
// Whatever the peer sends, this never throws: bounded session start, bounded dials, a bounded number
// of streams, RST to the destination when the stream is reset, and a reset stream when the
// destination fails.
import { EventEmitter } from 'node:events';
import type * as Http2 from 'node:http2';
import type * as net from 'node:net';
import type { WebSocket } from 'ws';
import { Defaults, OutboundFailure, OutboundHeader } from '../../src/protocol/constants';
import { formatDestination, parseDestination } from '../../src/protocol/destination';
import { GoawayWatch } from '../../src/protocol/http2-goaway-watch';
import { webSocketStream } from '../../src/protocol/websocket-stream';
import type { Logger } from './log';
import { dial, DialError, type OutboundFailureKind } from './outbound-dial';
import { http2 } from './tunnel-modules';

const STREAM_WINDOW = 1024 * 1024;

export interface OutboundSessionOptions {
  /** Who the session belongs to now: the developer of a claim its lease holds, or undefined. */
  readonly holder: () => string | undefined;
  readonly maxStreams: number;
  readonly connectTimeoutMs: number;
  /** Bound on the HTTP/2 session starting after the upgrade. */
  readonly startTimeoutMs: number;
  readonly heartbeatMs?: number;
}

export class OutboundSession extends EventEmitter<{ closed: [] }> {
  private readonly server: Http2.Http2Server;
  private session: Http2.ServerHttp2Session | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly startTimer: NodeJS.Timeout;
  /** Destinations connected or being dialed now: they are cut when the session ends. */
  private readonly sockets = new Set<net.Socket>();
  private streams = 0;
  private alive = true;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly log: Logger,
    private readonly developer: string,
    private readonly opts: OutboundSessionOptions,
  ) {
    super();
    const goaway = new GoawayWatch(0, () => setImmediate(() => this.fail('the HTTP/2 session ended (GOAWAY sent)')));
    const duplex = webSocketStream(ws, { onWrite: (chunk) => goaway.observe(chunk) });
    duplex.on('error', () => undefined); // surfaced through the WebSocket's close
    // nghttp2 refuses streams beyond the limit once the peer acknowledged it; the count below covers
    // the streams a peer opens before that.
    this.server = http2().createServer({
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false, maxConcurrentStreams: opts.maxStreams },
    });
    this.server.on('session', (s) => {
      this.session = s;
      s.on('error', (err: Error) => this.fail(`HTTP/2 session error: ${err.message}`));
      s.on('goaway', (code: number) => this.fail(`the client sent GOAWAY (${code})`));
      s.on('close', () => this.fail('HTTP/2 session closed'));
      s.once('remoteSettings', () => clearTimeout(this.startTimer));
      s.once('connect', () => s.setLocalWindowSize(8 * STREAM_WINDOW));
    });
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.startTimer = setTimeout(() => this.fail('did not start its HTTP/2 session'), opts.startTimeoutMs);
    this.startTimer.unref();
    this.server.emit('connection', duplex);
    ws.on('pong', () => (this.alive = true));
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.fail('heartbeat missed');
        return;
      }
      this.alive = false;
      ws.ping();
    }, opts.heartbeatMs ?? Defaults.heartbeatMs);
    this.heartbeat.unref();
    ws.on('close', () => this.end());
    ws.on('error', (err) => this.log.warn('outbound socket error', { developer, error: err.message }));
  }

  close(code: number, reason: string): void {
    if (this.ended) return;
    this.ws.close(code, reason);
    this.end();
  }

  private onStream(stream: Http2.ServerHttp2Stream, headers: Http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'CONNECT') {
      stream.respond({ ':status': 405, allow: 'CONNECT' }, { endStream: true });
      return;
    }
    const authority = headers[':authority'];
    const dest = parseDestination(authority);
    if (dest === undefined) {
      this.refuse(stream, OutboundFailure.badTarget);
      return;
    }
    const destination = formatDestination(dest.host, dest.port);
    const developer = this.opts.holder();
    if (developer === undefined) {
      this.log.info('outbound connection refused', { developer: this.developer, destination, reason: OutboundFailure.notAllowed.reason });
      this.refuse(stream, OutboundFailure.notAllowed);
      return;
    }
    if (this.streams >= this.opts.maxStreams) {
      this.log.info('outbound connection refused', { developer, destination, reason: OutboundFailure.tooManyStreams.reason });
      this.refuse(stream, OutboundFailure.tooManyStreams);
      return;
    }
    this.streams++;
    stream.once('close', () => this.streams--);
    this.log.info('outbound connection', { developer, destination });
    const pending = dial(dest, this.opts.connectTimeoutMs);
    const onEarlyClose = (): void => pending.cancel();
    stream.once('close', onEarlyClose);
    pending.connected.then(
      (socket) => {
        stream.off('close', onEarlyClose);
        if (stream.destroyed || this.ended) {
          socket.resetAndDestroy();
          return;
        }
        this.pipe(stream, socket);
      },
      (err: unknown) => {
        stream.off('close', onEarlyClose);
        const failure = err instanceof DialError ? err.failure : OutboundFailure.failed;
        const errno = err instanceof DialError ? err.errno : undefined;
        this.log.info('outbound connection failed', { developer, destination, reason: failure.reason, errno });
        this.refuse(stream, failure, errno);
      },
    );
  }

  private pipe(stream: Http2.ServerHttp2Stream, socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    stream.respond({ ':status': 200 });
    // Half-closes travel through the pipes (END_STREAM is a FIN, a FIN is END_STREAM).
    stream.pipe(socket);
    socket.pipe(stream);
    socket.on('error', () => undefined);
    socket.once('close', (hadError) => {
      if (hadError && !stream.destroyed) stream.close(http2().constants.NGHTTP2_CANCEL);
    });
    // A reset stream (or a session gone) is an abort: the destination gets a TCP RST, not a FIN that
    // would read as a complete request.
    stream.once('close', () => {
      if (stream.rstCode !== http2().constants.NGHTTP2_NO_ERROR && !socket.destroyed) socket.resetAndDestroy();
    });
  }

  private refuse(stream: Http2.ServerHttp2Stream, failure: OutboundFailureKind, errno?: string): void {
    if (stream.destroyed || stream.headersSent) return;
    const headers: Http2.OutgoingHttpHeaders = { ':status': failure.status, [OutboundHeader.error]: failure.reason };
    if (errno !== undefined) headers[OutboundHeader.errno] = errno;
    stream.respond(headers, { endStream: true });
  }

  private fail(why: string): void {
    if (this.ended) return;
    this.log.warn('outbound session broken', { developer: this.developer, reason: why });
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.startTimer);
    for (const s of this.sockets) s.resetAndDestroy();
    this.session?.destroy();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.terminate();
    this.emit('closed');
  }
}
