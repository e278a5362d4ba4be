// The sidecar's end of one developer's tunnel: after the WebSocket handshake the socket carries one
// HTTP/2 session in which the sidecar is the client. Each intercepted client connection becomes one
// CONNECT stream, which the developer's extension pipes to its local port; HTTP/2's per-stream flow
// control lets a paused debuggee hold back only its own stream.
//
// The tunnel is the claim's lease, so it must never look alive when it is not: any end of the HTTP/2
// session (an error, a GOAWAY, garbage, a text message) ends the WebSocket, and a session that never
// starts, or a CONNECT that is never answered, ends within the tunnel timeout.
import { EventEmitter } from 'node:events';
import type * as Http2 from 'node:http2';
import type { WebSocket } from 'ws';
import { CLIENT_PREFACE_BYTES, GoawayWatch } from '../../src/protocol/http2-goaway-watch';
import { webSocketStream } from '../../src/protocol/websocket-stream';
import { CLOSE_RELEASE, Defaults, StreamHeader } from '../../src/protocol/constants';
import type { Logger } from './log';
import { http2 } from './tunnel-modules';

/** Why a CONNECT stream could not be opened. */
export class StreamOpenError extends Error {
  constructor(
    readonly kind: 'local-refused' | 'tunnel-gone' | 'no-answer',
    message: string,
    readonly localAddress?: string,
  ) {
    super(message);
  }
}

// Larger windows than HTTP/2's 64 KiB default keep a loopback-fast local server streaming at full
// speed; memory per stream stays bounded by the window.
const STREAM_WINDOW = 1024 * 1024;

export interface TunnelSessionOptions {
  readonly heartbeatMs?: number;
  /** Bound on the HTTP/2 session starting after the upgrade, and on each CONNECT's answer. */
  readonly timeoutMs?: number;
}

export interface TunnelSessionEvents {
  /** The tunnel ended: on purpose (the holder released the claim) or not (it dropped). */
  closed: [onPurpose: boolean];
}

export class TunnelSession extends EventEmitter<TunnelSessionEvents> {
  private readonly h2: Http2.ClientHttp2Session;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly startTimer: NodeJS.Timeout;
  private readonly timeoutMs: number;
  private alive = true;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly log: Logger,
    readonly developer: string,
    opts: TunnelSessionOptions = {},
  ) {
    super();
    this.timeoutMs = opts.timeoutMs ?? Defaults.tunnelTimeoutSeconds * 1000;
    const goaway = new GoawayWatch(CLIENT_PREFACE_BYTES, () => setImmediate(() => this.fail('the HTTP/2 session ended (GOAWAY sent)')));
    const duplex = webSocketStream(ws, { onWrite: (chunk) => goaway.observe(chunk) });
    duplex.on('error', () => undefined); // surfaced through the WebSocket's close below
    this.h2 = http2().connect('http://intercept.tunnel', {
      createConnection: () => duplex,
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    });
    this.h2.on('connect', () => this.h2.setLocalWindowSize(8 * STREAM_WINDOW));
    // The peer's SETTINGS show that it speaks HTTP/2; a WebSocket that never does is no tunnel.
    this.startTimer = setTimeout(() => this.fail('did not start its HTTP/2 session'), this.timeoutMs);
    this.startTimer.unref();
    this.h2.once('remoteSettings', () => clearTimeout(this.startTimer));
    this.h2.on('error', (err: Error) => this.fail(`HTTP/2 session error: ${err.message}`));
    this.h2.on('goaway', (code: number) => this.fail(`the client sent GOAWAY (${code})`));
    this.h2.on('close', () => this.fail('HTTP/2 session closed'));
    ws.on('pong', () => (this.alive = true));
    // A port-forward can stay half-open without notice; an unanswered ping ends the tunnel.
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.fail('heartbeat missed');
        return;
      }
      this.alive = false;
      ws.ping();
    }, opts.heartbeatMs ?? Defaults.heartbeatMs);
    this.heartbeat.unref();
    ws.on('close', (code) => this.end(code === CLOSE_RELEASE));
    ws.on('error', (err) => this.log.warn('tunnel socket error', { developer, error: err.message }));
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Opens a CONNECT stream to the developer's local port; resolves once it is connected there. */
  openStream(listenPort: number): Promise<Http2.ClientHttp2Stream> {
    if (this.ended || this.h2.closed || this.h2.destroyed) {
      return Promise.reject(new StreamOpenError('tunnel-gone', 'the tunnel is closed'));
    }
    return new Promise((resolve, reject) => {
      let stream: Http2.ClientHttp2Stream;
      try {
        stream = this.h2.request({
          ':method': 'CONNECT',
          ':authority': `local:${listenPort}`,
          [StreamHeader.listenPort]: String(listenPort),
        });
      } catch (err) {
        reject(new StreamOpenError('tunnel-gone', `the tunnel refused a new stream: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      const settle = (): void => {
        clearTimeout(timer);
        stream.off('error', onError);
        stream.off('close', onClose);
      };
      const onError = (err: Error): void => {
        settle();
        reject(new StreamOpenError('tunnel-gone', `tunnel stream failed: ${err.message}`));
      };
      const onClose = (): void => {
        settle();
        reject(new StreamOpenError('tunnel-gone', 'the tunnel closed the stream'));
      };
      const timer = setTimeout(() => {
        settle();
        stream.on('error', () => undefined);
        stream.close(http2().constants.NGHTTP2_CANCEL);
        reject(new StreamOpenError('no-answer', `the developer's tunnel did not answer within ${Math.round(this.timeoutMs / 100) / 10} s`));
      }, this.timeoutMs);
      stream.once('error', onError);
      stream.once('close', onClose);
      stream.once('response', (headers) => {
        settle();
        if (headers[':status'] === 200) {
          resolve(stream);
          return;
        }
        const address = headers[StreamHeader.localAddress];
        const code = headers[StreamHeader.localError];
        stream.on('error', () => undefined);
        stream.resume(); // the refusal ends the stream; reading its end lets it close without a reset
        stream.end();
        reject(new StreamOpenError('local-refused', `local port unreachable (${String(code ?? headers[':status'])})`, typeof address === 'string' ? address : undefined));
      });
    });
  }

  /** Ends the tunnel from the sidecar's side (shutdown, or a newer tunnel took over). */
  close(code: number, reason: string): void {
    if (this.ended) return;
    this.ws.close(code, reason);
    this.end(false);
  }

  /**
   * The tunnel is broken: end the WebSocket, which ends the tunnel as a drop. While a close handshake
   * is under way (a release), its code decides, not the HTTP/2 session failing under it.
   */
  private fail(why: string): void {
    if (this.ended || this.ws.readyState !== this.ws.OPEN) return;
    this.log.warn('tunnel broken', { developer: this.developer, reason: why });
    this.ws.terminate();
    this.end(false);
  }

  private end(onPurpose: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.startTimer);
    this.h2.destroy();
    // A close handshake under way (our own close()) may finish; anything else is cut now.
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.terminate();
    this.emit('closed', onPurpose);
  }
}
