// The control port: bound to 127.0.0.1 and in no Service, so only a port-forward reaches it. It
// serves the status and, with a WebSocket handshake, claims a route (the tunnel) or opens an
// outbound session. Every refusal is an honest HTTP answer of one shape (control-refusals.ts),
// decided in a fixed order: path, then method and upgrade, then protocol version, then for a tunnel
// the claim fields, port, and last whether the claim is held; for an outbound session whether the
// sidecar allows it, the lease, and whether the lease holds a claim.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { checkClaim, checkDeveloper } from '../../src/protocol/claim';
import {
  CLOSE_REPLACED,
  CLOSE_SIDECAR_SHUTDOWN,
  Defaults,
  FEATURE_OUTBOUND,
  HandshakeHeader,
  OUTBOUND_PATH,
  OUTBOUND_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  STATUS_PATH,
  SUPPORTED_PROTOCOLS,
  TUNNEL_PATH,
} from '../../src/protocol/constants';
import type { ClaimInfo, ClaimRegistry, ClaimRequest } from './claims';
import type { PortMapping } from './config';
import { closeWithRefusal, respondWithRefusal, type Refusal } from './control-refusals';
import type { Logger } from './log';
import { OutboundSession } from './outbound-session';
import { loadWs } from './tunnel-modules';
import { TunnelSession } from './tunnel-session';
import type { SidecarStatus } from '../../src/protocol/status';

export interface ControlServerOptions {
  readonly port: number;
  readonly mappings: readonly PortMapping[];
  readonly registry: ClaimRegistry<TunnelSession>;
  readonly log: Logger;
  readonly heartbeatMs?: number;
  /** Bound on a tunnel starting its HTTP/2 session and on each CONNECT's answer. */
  readonly tunnelTimeoutMs?: number;
  /** Outbound sessions are allowed (--outbound), with these limits; undefined: refused. */
  readonly outbound?: { readonly maxStreams: number; readonly connectTimeoutMs: number };
}

/** RFC 6455: a Sec-WebSocket-Key is 16 bytes in base64. */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 6455 is version 13; ws also speaks the last draft, 8. */
const WEBSOCKET_VERSIONS = ['13', '8'];

const LEASE = /^[\x21-\x7e]{16,128}$/;

const HANDSHAKE_SHAPE = 'a GET with Connection: Upgrade, Upgrade: websocket, Sec-WebSocket-Key and Sec-WebSocket-Version: 13';

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function notWebSocket(problem: string): Refusal {
  return { status: 400, error: 'not-websocket', message: `The tunnel and outbound endpoints take a WebSocket handshake (${HANDSHAKE_SHAPE}); ${problem}.` };
}

/** A request Node's HTTP parser refused: the answer names the problem, never the bytes. */
function clientErrorRefusal(err: NodeJS.ErrnoException): Refusal {
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, error: 'head-too-large', message: 'The request head is too large.' };
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, error: 'request-timeout', message: 'The request did not arrive in time.' };
  return { status: 400, error: 'bad-request', message: `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'}).` };
}

export class ControlServer {
  readonly server: http.Server;
  /** Made on the first upgrade (tunnel-modules.ts says why). */
  private wss: WebSocketServer | undefined;
  private readonly sessions = new Set<TunnelSession>();
  private readonly outboundSessions = new Set<OutboundSession>();

  constructor(private readonly opts: ControlServerOptions) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    // Every answer on this port is written whole at once, so a refusal written here always follows
    // complete responses, never the middle of one.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === 'ECONNRESET') socket.destroy();
      else closeWithRefusal(socket, clientErrorRefusal(err));
    });
  }

  private async webSocketServer(): Promise<WebSocketServer> {
    const { WebSocketServer } = await loadWs();
    if (this.wss !== undefined) return this.wss;
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: Defaults.maxTunnelMessageBytes });
    // What ws itself would refuse after the checks in route() (a malformed Sec-WebSocket-Protocol),
    // in the same shape as every other refusal.
    wss.on('wsClientError', (err, socket) => closeWithRefusal(socket, notWebSocket(err.message)));
    wss.on('error', (err) => this.opts.log.warn('control websocket error', { error: err.message }));
    return (this.wss = wss);
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
    for (const s of this.outboundSessions) s.close(CLOSE_SIDECAR_SHUTDOWN, 'sidecar shutting down');
    this.server.close();
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = this.route(req, false);
    if (route === 'status') {
      const status: SidecarStatus = {
        protocol: PROTOCOL_VERSION,
        protocols: SUPPORTED_PROTOCOLS,
        features: this.opts.outbound === undefined ? [] : [FEATURE_OUTBOUND],
        ports: this.opts.mappings,
        claims: this.opts.registry.list(),
        tunnels: this.sessions.size,
      };
      const body = JSON.stringify(status);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    respondWithRefusal(res, route);
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.wss !== undefined) {
      this.upgrade(this.wss, req, socket, head);
      return;
    }
    // The first upgrade: every check runs once ws is there, so that the check of a claim and its
    // taking stay in one turn of the event loop, as for every later upgrade.
    this.webSocketServer().then(
      (wss) => {
        if (!socket.destroyed) this.upgrade(wss, req, socket, head);
      },
      (err: Error) => {
        this.opts.log.error('could not load the WebSocket module', { error: err.message });
        socket.destroy();
      },
    );
  }

  private upgrade(wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const route = this.route(req, true);
    if (route === 'outbound') {
      this.onOutbound(wss, req, socket, head);
      return;
    }
    const parsed = route === 'handshake' ? this.readClaim(req) : route;
    if ('status' in parsed) {
      closeWithRefusal(socket, parsed);
      return;
    }
    const holder = this.opts.registry.conflict(parsed);
    if (holder !== undefined) {
      this.refuseHeld(socket, parsed, holder);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new TunnelSession(ws, this.opts.log, parsed.developer, {
        heartbeatMs: this.opts.heartbeatMs,
        timeoutMs: this.opts.tunnelTimeoutMs,
      });
      const outcome = this.opts.registry.claim(parsed, session);
      if (!outcome.ok) {
        session.close(4009, 'claim held'); // another handshake won in between: cannot happen in one event loop turn
        return;
      }
      // The old tunnel of the same holder is closed; requests on their way to it move to this one.
      outcome.replaced?.close(CLOSE_REPLACED, 'replaced by a newer tunnel with the same lease');
      const record = outcome.record;
      this.sessions.add(session);
      session.on('closed', (onPurpose) => {
        this.sessions.delete(session);
        if (onPurpose) this.opts.registry.release(record, session);
        else this.opts.registry.drop(record, session);
      });
    });
  }

  /** An outbound session: the rest of its order, then the session. */
  private onOutbound(wss: WebSocketServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.checkOutbound(req);
    if (refusal !== undefined) {
      closeWithRefusal(socket, refusal);
      return;
    }
    const lease = headerValue(req, HandshakeHeader.lease)!;
    const outbound = this.opts.outbound!;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const developer = this.opts.registry.heldBy(lease)?.developer ?? 'unknown';
      const session = new OutboundSession(ws, this.opts.log, developer, {
        holder: () => this.opts.registry.heldBy(lease)?.developer,
        maxStreams: outbound.maxStreams,
        connectTimeoutMs: outbound.connectTimeoutMs,
        startTimeoutMs: this.opts.tunnelTimeoutMs ?? Defaults.tunnelTimeoutSeconds * 1000,
        heartbeatMs: this.opts.heartbeatMs,
      });
      this.opts.log.info('outbound session opened', { developer });
      this.outboundSessions.add(session);
      session.on('closed', () => {
        this.outboundSessions.delete(session);
        this.opts.log.info('outbound session closed', { developer });
      });
    });
  }

  /** After path, method and upgrade: the protocol version, whether outbound is on, the lease. */
  private checkOutbound(req: http.IncomingMessage): Refusal | undefined {
    const version = Number(headerValue(req, HandshakeHeader.protocol) ?? 'none');
    if (!SUPPORTED_PROTOCOLS.includes(version) || version < OUTBOUND_PROTOCOL_VERSION) {
      return {
        status: 426,
        error: 'protocol-version',
        message: `Outbound sessions need Intercept protocol ${OUTBOUND_PROTOCOL_VERSION} or later; this sidecar speaks ${SUPPORTED_PROTOCOLS.join(' and ')}. Update the extension or the sidecar so that both match.`,
        extra: { supported: SUPPORTED_PROTOCOLS },
      };
    }
    if (this.opts.outbound === undefined) {
      return { status: 403, error: 'outbound-disabled', message: 'This sidecar was not started with --outbound: it does not open connections for developers.' };
    }
    const lease = headerValue(req, HandshakeHeader.lease) ?? '';
    if (!LEASE.test(lease)) {
      return { status: 400, error: 'bad-claim', message: `${HandshakeHeader.lease} must be 16-128 visible characters.`, extra: { field: 'lease' } };
    }
    if (this.opts.registry.heldBy(lease) === undefined) {
      return { status: 403, error: 'no-claim', message: 'Outbound sessions are for a developer who holds a claim on this sidecar; this lease holds none.' };
    }
    return undefined;
  }

  /**
   * The first two steps of the order: the path, then the method and the upgrade. 'status' for a
   * plain request of the status; 'handshake' for a WebSocket handshake on the tunnel endpoint, whose
   * claim is read next; 'outbound' for one on the outbound endpoint; otherwise the refusal.
   */
  private route(req: http.IncomingMessage, upgrade: false): 'status' | Refusal;
  private route(req: http.IncomingMessage, upgrade: true): 'handshake' | 'outbound' | Refusal;
  private route(req: http.IncomingMessage, upgrade: boolean): 'status' | 'handshake' | 'outbound' | Refusal {
    const path = (req.url ?? '').split('?')[0];
    if (path === STATUS_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return { status: 405, error: 'method-not-allowed', message: `${STATUS_PATH} takes GET.`, headers: { allow: 'GET, HEAD' } };
      }
      if (upgrade) return { status: 400, error: 'bad-request', message: `${STATUS_PATH} takes a plain GET, without an upgrade.` };
      return 'status';
    }
    if (path !== TUNNEL_PATH && path !== OUTBOUND_PATH) {
      return {
        status: 404,
        error: 'not-found',
        message: `The control port serves GET ${STATUS_PATH}, the tunnel handshake on ${TUNNEL_PATH} and the outbound handshake on ${OUTBOUND_PATH}.`,
      };
    }
    if (req.method !== 'GET') {
      return { status: 405, error: 'method-not-allowed', message: `${path} takes a WebSocket handshake, ${HANDSHAKE_SHAPE}.`, headers: { allow: 'GET' } };
    }
    if (!upgrade || (headerValue(req, 'upgrade') ?? '').toLowerCase() !== 'websocket') return notWebSocket('this request does not upgrade to websocket');
    if (!WEBSOCKET_KEY.test(headerValue(req, 'sec-websocket-key') ?? '')) return notWebSocket('Sec-WebSocket-Key is missing or invalid');
    if (!WEBSOCKET_VERSIONS.includes(headerValue(req, 'sec-websocket-version') ?? '')) {
      return { ...notWebSocket('Sec-WebSocket-Version is missing or not 13'), headers: { 'sec-websocket-version': '13' } };
    }
    return path === OUTBOUND_PATH ? 'outbound' : 'handshake';
  }

  /** The rest of the order: protocol version, claim fields, port. */
  private readClaim(req: http.IncomingMessage): ClaimRequest | Refusal {
    const h = (name: string): string | undefined => headerValue(req, name);
    const version = h(HandshakeHeader.protocol);
    if (!SUPPORTED_PROTOCOLS.some((v) => String(v) === version)) {
      return {
        status: 426,
        error: 'protocol-version',
        message: `This sidecar speaks Intercept tunnel protocol ${SUPPORTED_PROTOCOLS.join(' and ')}, the client sent ${version ?? 'none'}. Update the extension or the sidecar so that both match.`,
        extra: { supported: SUPPORTED_PROTOCOLS },
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
    if (!LEASE.test(lease)) {
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
    closeWithRefusal(socket, {
      status: 409,
      error: 'claim-held',
      message: `"${req.header}: ${req.value}" is already intercepted by ${holder.developer} (since ${holder.since}). Choose another value, or ask them to stop.`,
      extra: { holder },
    });
  }
}
