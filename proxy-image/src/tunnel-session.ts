// The sidecar's end of one developer's tunnel: after the WebSocket handshake the socket carries one
// HTTP/2 session in which the sidecar is the client. Each intercepted client connection becomes one
// CONNECT stream, which the developer's extension pipes to its local port; HTTP/2's per-stream flow
// control lets a paused debuggee hold back only its own stream.
import { EventEmitter } from 'node:events';
import * as http2 from 'node:http2';
import type { WebSocket } from 'ws';
import { webSocketStream } from '../../src/protocol/websocket-stream';
import { CLOSE_RELEASE, Defaults, StreamHeader } from '../../src/protocol/constants';
import type { Logger } from './log';

/** Why a CONNECT stream could not be opened. */
export class StreamOpenError extends Error {
  constructor(
    readonly kind: 'local-refused' | 'tunnel-gone',
    message: string,
    readonly localAddress?: string,
  ) {
    super(message);
  }
}

// Larger windows than HTTP/2's 64 KiB default keep a loopback-fast local server streaming at full
// speed; memory per stream stays bounded by the window.
const STREAM_WINDOW = 1024 * 1024;

export interface TunnelSessionEvents {
  /** The tunnel ended: on purpose (the holder released the claim) or not (it dropped). */
  closed: [onPurpose: boolean];
}

export class TunnelSession extends EventEmitter<TunnelSessionEvents> {
  private readonly h2: http2.ClientHttp2Session;
  private readonly heartbeat: NodeJS.Timeout;
  private alive = true;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly log: Logger,
    readonly developer: string,
    heartbeatMs: number = Defaults.heartbeatMs,
  ) {
    super();
    const duplex = webSocketStream(ws);
    duplex.on('error', () => undefined); // surfaced through the WebSocket's close below
    this.h2 = http2.connect('http://intercept.tunnel', {
      createConnection: () => duplex,
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    });
    this.h2.on('error', (err: Error) => this.log.warn('tunnel session error', { developer, error: err.message }));
    this.h2.on('connect', () => this.h2.setLocalWindowSize(8 * STREAM_WINDOW));
    // A session that failed (garbage from the client) ends the tunnel; a close under way finishes.
    this.h2.on('close', () => {
      if (ws.readyState === ws.OPEN) ws.terminate();
    });
    ws.on('pong', () => (this.alive = true));
    // A port-forward can stay half-open without notice; an unanswered ping ends the tunnel.
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.log.warn('tunnel heartbeat missed', { developer });
        ws.terminate();
        return;
      }
      this.alive = false;
      ws.ping();
    }, heartbeatMs);
    this.heartbeat.unref();
    ws.on('close', (code) => this.end(code === CLOSE_RELEASE));
    ws.on('error', (err) => this.log.warn('tunnel socket error', { developer, error: err.message }));
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Opens a CONNECT stream to the developer's local port; resolves once it is connected there. */
  openStream(listenPort: number): Promise<http2.ClientHttp2Stream> {
    if (this.ended || this.h2.closed || this.h2.destroyed) {
      return Promise.reject(new StreamOpenError('tunnel-gone', 'the tunnel is closed'));
    }
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
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
      const onError = (err: Error): void => reject(new StreamOpenError('tunnel-gone', `tunnel stream failed: ${err.message}`));
      const onClose = (): void => reject(new StreamOpenError('tunnel-gone', 'the tunnel closed the stream'));
      stream.once('error', onError);
      stream.once('close', onClose);
      stream.once('response', (headers) => {
        stream.off('error', onError);
        stream.off('close', onClose);
        if (headers[':status'] === 200) {
          resolve(stream);
          return;
        }
        const address = headers[StreamHeader.localAddress];
        const code = headers[StreamHeader.localError];
        stream.on('error', () => undefined);
        stream.close();
        reject(new StreamOpenError('local-refused', `local port unreachable (${String(code ?? headers[':status'])})`, typeof address === 'string' ? address : undefined));
      });
    });
  }

  /** Ends the tunnel from the sidecar's side (shutdown). */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
    this.end(false);
  }

  private end(onPurpose: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.h2.destroy();
    // A close handshake under way (our own close()) may finish; anything else is cut now.
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.terminate();
    this.emit('closed', onPurpose);
  }
}
