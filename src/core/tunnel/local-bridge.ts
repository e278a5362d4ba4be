// The extension's end of a tunnel session: the sidecar opens one HTTP/2 CONNECT stream per
// intercepted connection, and the bridge pipes each to a new TCP connection to the local port
// where the program being debugged listens.
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { StreamHeader } from '../../protocol/constants';
import { ExchangeObserver, type InterceptedRequest } from './exchange-observer';

export interface LocalTarget {
  readonly host: string;
  readonly port: number;
}

export interface LocalBridgeEvents {
  onRequest(r: InterceptedRequest): void;
  /** The local port could not be reached for an intercepted connection. */
  onLocalError(code: string, address: string): void;
}

const STREAM_WINDOW = 1024 * 1024;

/** Serves the HTTP/2 session the sidecar runs over `duplex`; returns the session. */
export function serveTunnel(duplex: Duplex, target: LocalTarget, events: LocalBridgeEvents): http2.ServerHttp2Session {
  const server = http2.createServer({ settings: { initialWindowSize: STREAM_WINDOW, enablePush: false } });
  let session: http2.ServerHttp2Session | undefined;
  server.on('session', (s) => {
    session = s;
    s.on('error', () => undefined); // the tunnel client sees the socket close and reconnects
    s.once('connect', () => s.setLocalWindowSize(8 * STREAM_WINDOW));
  });
  server.on('stream', (stream, headers) => bridge(stream, headers, target, events));
  server.emit('connection', duplex);
  if (session === undefined) throw new Error('HTTP/2 session did not start on the tunnel');
  return session;
}

function bridge(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, target: LocalTarget, events: LocalBridgeEvents): void {
  stream.on('error', () => undefined);
  if (headers[':method'] !== 'CONNECT') {
    stream.respond({ ':status': 405 }, { endStream: true });
    return;
  }
  const address = `${target.host}:${target.port}`;
  const local = net.connect({ host: target.host, port: target.port, noDelay: true });
  let connected = false;
  local.once('connect', () => {
    connected = true;
    if (stream.destroyed) {
      local.destroy();
      return;
    }
    stream.respond({ ':status': 200 });
    const observer = new ExchangeObserver((r) => events.onRequest(r));
    stream.on('data', (chunk: Buffer) => observer.request(chunk));
    local.on('data', (chunk: Buffer) => observer.response(chunk));
    local.once('end', () => observer.responseEnded());
    stream.pipe(local);
    local.pipe(stream);
  });
  local.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) {
      const code = err.code ?? 'ERROR';
      events.onLocalError(code, address);
      if (!stream.destroyed) {
        stream.respond({ ':status': 502, [StreamHeader.localError]: code, [StreamHeader.localAddress]: address }, { endStream: true });
      }
      return;
    }
    abort(stream);
  });
  // Half-closes travel through the pipes; a reset on either side resets the other.
  stream.on('close', () => local.destroy());
  local.on('close', (hadError) => {
    if (hadError) abort(stream);
  });
}

/** Resets a stream with CANCEL: a reset with no error code would read as a complete response. */
function abort(stream: http2.ServerHttp2Stream): void {
  if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
}
