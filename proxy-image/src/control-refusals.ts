// Every refusal on the control port has one shape, so that a client can read any of them the same
// way: a JSON body `{ error, message, ...extra }` whose message is written for a person, and the
// header `x-intercept-protocol` (docs/tunnel-protocol.md, "Answers").
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { HandshakeHeader, PROTOCOL_VERSION } from '../../src/protocol/constants';

export interface Refusal {
  readonly status: number;
  readonly error: string;
  readonly message: string;
  /** More fields of the JSON body. */
  readonly extra?: Record<string, unknown>;
  /** More response headers (e.g. `allow` on a 405). */
  readonly headers?: Record<string, string>;
}

/** After a refusal on a raw socket, how long the client has to read it before the socket goes. */
const LINGER_MS = 2000;

/** The one place where a refusal becomes a response: status, headers and body. */
export function renderRefusal(r: Refusal): { status: number; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ error: r.error, message: r.message, ...r.extra });
  return {
    status: r.status,
    headers: {
      'content-type': 'application/json',
      [HandshakeHeader.protocol]: String(PROTOCOL_VERSION),
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
      ...r.headers,
    },
    body,
  };
}

/** Answers a plain request that Node's HTTP server parsed. */
export function respondWithRefusal(res: http.ServerResponse, r: Refusal): void {
  const { status, headers, body } = renderRefusal(r);
  res.writeHead(status, headers).end(body);
}

/**
 * Answers on a socket that Node's HTTP server handed over (an upgrade, a request it could not
 * parse) and closes it.
 */
export function closeWithRefusal(socket: Duplex, r: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, headers, body } = renderRefusal(r);
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n${body}`);
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
