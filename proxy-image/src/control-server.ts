// The control port: bound to 127.0.0.1 and in no Service, so only a port-forward reaches it. A
// WebSocket handshake claims a route; a refusal is an honest HTTP answer (400, 409, 426).
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { checkClaim, checkDeveloper } from '../../src/protocol/claim';
import { CLOSE_SIDECAR_SHUTDOWN, Defaults, HandshakeHeader, PROTOCOL_VERSION, STATUS_PATH, TUNNEL_PATH } from '../../src/protocol/constants';
import type { ClaimInfo, ClaimRegistry, ClaimRequest } from './claims';
import type { PortMapping } from './config';
import type { Logger } from './log';
import { TunnelSession } from './tunnel-session';

export interface ControlServerOptions {
  readonly port: number;
  readonly mappings: readonly PortMapping[];
  readonly registry: ClaimRegistry<TunnelSession>;
  readonly log: Logger;
  readonly heartbeatMs?: number;
}

type Refusal = { status: number; error: string; message: string; extra?: Record<string, unknown> };

export class ControlServer {
  readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: Defaults.maxTunnelMessageBytes });
  private readonly sessions = new Set<TunnelSession>();

  constructor(private readonly opts: ControlServerOptions) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      socket.destroy();
    });
    this.wss.on('error', (err) => opts.log.warn('control websocket error', { error: err.message }));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): void {
    for (const s of this.sessions) s.close(CLOSE_SIDECAR_SHUTDOWN, 'sidecar shutting down');
    this.server.close();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'GET' && req.url === STATUS_PATH) {
      const body = JSON.stringify({ protocol: PROTOCOL_VERSION, ports: this.opts.mappings, claims: this.opts.registry.list(), tunnels: this.sessions.size });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`Not found. The control port serves ${STATUS_PATH} and ${TUNNEL_PATH}.\n`);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const parsed = this.readHandshake(req);
    if ('status' in parsed) {
      this.refuse(socket, parsed);
      return;
    }
    const holder = this.opts.registry.conflict(parsed);
    if (holder !== undefined) {
      this.refuseHeld(socket, parsed, holder);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new TunnelSession(ws, this.opts.log, parsed.developer, this.opts.heartbeatMs);
      const outcome = this.opts.registry.claim(parsed, session);
      if (!outcome.ok) {
        session.close(4009, 'claim held'); // another handshake won in between: cannot happen in one event loop turn
        return;
      }
      const record = outcome.record;
      this.sessions.add(session);
      session.on('closed', (onPurpose) => {
        this.sessions.delete(session);
        if (onPurpose) this.opts.registry.release(record, session);
        else this.opts.registry.drop(record, session);
      });
    });
  }

  private readHandshake(req: http.IncomingMessage): ClaimRequest | Refusal {
    const h = (name: string): string | undefined => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if ((req.url ?? '').split('?')[0] !== TUNNEL_PATH) {
      return { status: 404, error: 'not-found', message: `The tunnel endpoint is ${TUNNEL_PATH}.` };
    }
    if ((h('upgrade') ?? '').toLowerCase() !== 'websocket') {
      return { status: 400, error: 'not-websocket', message: 'The tunnel endpoint takes a WebSocket handshake.' };
    }
    const version = h(HandshakeHeader.protocol);
    if (version !== String(PROTOCOL_VERSION)) {
      return {
        status: 426,
        error: 'protocol-version',
        message: `This sidecar speaks Intercept tunnel protocol ${PROTOCOL_VERSION}, the client sent ${version ?? 'none'}. Update the extension or the sidecar so that both match.`,
        extra: { supported: [PROTOCOL_VERSION] },
      };
    }
    const header = h(HandshakeHeader.claimHeader) ?? '';
    const value = h(HandshakeHeader.claimValue) ?? '';
    const developer = h(HandshakeHeader.developer) ?? '';
    const lease = h(HandshakeHeader.lease) ?? '';
    const problem = checkClaim(header, value) ?? checkDeveloper(developer);
    if (problem !== undefined) {
      return { status: 400, error: 'bad-claim', message: `The claim's ${problem.field} ${problem.reason}.`, extra: { field: problem.field } };
    }
    if (!/^[\x21-\x7e]{16,128}$/.test(lease)) {
      return { status: 400, error: 'bad-claim', message: `${HandshakeHeader.lease} must be 16-128 visible characters.`, extra: { field: 'lease' } };
    }
    const portText = h(HandshakeHeader.port);
    const ports = this.opts.mappings.map((m) => m.listenPort);
    let port: number;
    if (portText === undefined) {
      if (ports.length !== 1) {
        return { status: 400, error: 'bad-port', message: `This sidecar serves ports ${ports.join(', ')}; say which one with ${HandshakeHeader.port}.` };
      }
      port = ports[0]!;
    } else {
      port = Number(portText);
      if (!ports.includes(port)) {
        return { status: 400, error: 'bad-port', message: `This sidecar does not serve port ${portText}; it serves ${ports.join(', ')}.` };
      }
    }
    return { port, header: header.toLowerCase(), value, developer, lease };
  }

  private refuseHeld(socket: Duplex, req: ClaimRequest, holder: ClaimInfo): void {
    this.opts.log.info('claim refused', { port: req.port, header: req.header, value: req.value, developer: req.developer, holder: holder.developer });
    this.refuse(socket, {
      status: 409,
      error: 'claim-held',
      message: `"${req.header}: ${req.value}" is already intercepted by ${holder.developer} (since ${holder.since}). Choose another value, or ask them to stop.`,
      extra: { holder },
    });
  }

  private refuse(socket: Duplex, r: Refusal): void {
    const body = JSON.stringify({ error: r.error, message: r.message, ...r.extra });
    socket.end(
      `HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? 'Error'}\r\n` +
        'content-type: application/json\r\n' +
        `${HandshakeHeader.protocol}: ${PROTOCOL_VERSION}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
  }
}
