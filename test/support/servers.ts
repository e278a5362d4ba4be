// Small real servers for the tests: the "app" in the pod and the "local program" on a developer's
// laptop. Each answers who it is, so a test can tell where a request landed.
import * as http from 'node:http';
import type * as net from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { WebSocketServer } from 'ws';

export interface NamedServer {
  readonly name: string;
  readonly port: number;
  readonly server: http.Server;
  /** Requests seen, in order: method, url and the raw header list. */
  readonly seen: Array<{ method: string; url: string; rawHeaders: string[] }>;
  /** TCP connections accepted so far, whether or not a request was parsed on them. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * An HTTP server that answers `<name> <method> <url>` with header `x-served-by: <name>`, echoes a
 * WebSocket's messages prefixed with its name on /ws, and on POST answers the body's length and
 * SHA-256. `handler` may take over a request first (return true when it did).
 */
export async function startNamedServer(
  name: string,
  handler?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
): Promise<NamedServer> {
  const seen: NamedServer['seen'] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders });
    if (handler?.(req, res)) return;
    if (req.method === 'POST' || req.method === 'PUT') {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      req.on('end', () => {
        res.writeHead(200, { 'x-served-by': name, 'content-type': 'application/json' });
        res.end(JSON.stringify({ servedBy: name, length, sha256: hash.digest('hex') }));
      });
      return;
    }
    res.writeHead(200, { 'x-served-by': name, 'content-type': 'text/plain' });
    res.end(`${name} ${req.method} ${req.url}`);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: net.Socket) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/ws') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data: Buffer, isBinary) => ws.send(isBinary ? data : `${name}: ${data.toString()}`, { binary: isBinary }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    name,
    port,
    server,
    seen,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** GET through a given agent; resolves with status, headers and body text. */
export async function get(
  port: number,
  path: string,
  headers: http.OutgoingHttpHeaders = {},
  agent?: http.Agent,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const req = http.request({ host: '127.0.0.1', port, path, headers, agent: agent ?? false });
  req.end();
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.setEncoding('utf8');
  let body = '';
  for await (const chunk of res) body += chunk as string;
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}
