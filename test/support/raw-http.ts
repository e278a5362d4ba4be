// HTTP on raw sockets, for requests no client library would send and answers read byte for byte.
import { randomBytes } from 'node:crypto';
import { TUNNEL_PATH } from '../../src/protocol/constants';
import { exchangeRaw } from './raw-sockets';

/** Writes raw bytes on a new connection, returns all that comes back until the server closes it. */
export async function raw(port: number, ...parts: Array<string | Buffer>): Promise<string> {
  return (await exchangeRaw(port, parts, 30_000)).toString('latin1');
}

/**
 * A request head. `headers` are added to Host; a name given as null is left out. With `websocket`,
 * the head is a WebSocket opening handshake whose headers `headers` may override or remove.
 */
export function requestHead(
  method: string,
  path: string,
  headers: Record<string, string | null> = {},
  websocket = false,
): string {
  const all: Record<string, string | null> = { host: 'control' };
  if (websocket) {
    Object.assign(all, {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
    });
  }
  for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;
  const lines = Object.entries(all)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `${method} ${path} HTTP/1.1\r\n${lines}\r\n`;
}

/** A WebSocket opening handshake on the tunnel endpoint. */
export function handshake(headers: Record<string, string | null>): string {
  return requestHead('GET', TUNNEL_PATH, headers, true);
}

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Reads the first response out of what `raw` returned. */
export function parseResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine!);
  if (!status) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = text.slice(end + 4);
  const length = headers['content-length'];
  return { status: Number(status[1]), headers, body: length === undefined ? rest : rest.slice(0, Number(length)) };
}
