// An HTTP proxy on 127.0.0.1 for the program being debugged (named in HTTP_PROXY / HTTPS_PROXY):
// every destination it asks for is reached from the pod, through the outbound session.
//  * CONNECT host:port: a tunnelled stream, its bytes (TLS, usually) never read or changed.
//  * Absolute-form `GET http://host:port/path`: sent over a tunnelled stream in origin-form, one
//    request per stream (`connection: close` towards the destination), with the developer's header
//    added when the program did not propagate it, so an intercept further down the call chain keeps
//    matching. The connection from the program stays keep-alive.
import * as http from 'node:http';
import type * as net from 'node:net';
import { OutboundHeader } from '../../protocol/constants';
import { formatDestination } from '../../protocol/destination';
import { DIALED_HOST } from '../tunnel/dialed-request';
import type { OpenOutbound } from './local-forward';
import { LoopbackListener } from './loopback-listener';
import type { OutboundError } from './outbound-error';
import { carriesClaim } from './propagation';
import { splice } from './splice';

export interface OutboundHttpProxyOptions {
  readonly open: OpenOutbound;
  /** The developer's header, added to plain-HTTP requests that lack it; undefined: add nothing. */
  readonly propagate?: { readonly header: string; readonly value: string };
  /** The local port; 0 (the default) takes a free one. */
  readonly localPort?: number;
  readonly onError?: (err: Error, destination: string) => void;
}

/** Connection-level headers of one hop (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade']);

function withoutHopByHop(raw: readonly string[]): string[] {
  const listed = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) listed.add(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !listed.has(name)) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function failureAnswer(err: Error): { status: number; headers: Record<string, string>; body: string } {
  const e = err as Partial<OutboundError>;
  const status = e.status !== undefined && e.status >= 400 ? e.status : 502;
  return { status, headers: { 'content-type': 'text/plain', [OutboundHeader.error]: e.reason ?? 'unreachable' }, body: `${err.message}\n` };
}

export class OutboundHttpProxy extends LoopbackListener {
  constructor(private readonly opts: OutboundHttpProxyOptions) {
    const server = http.createServer((req, res) => this.onRequest(req, res));
    super(server, opts.localPort);
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onConnect(req, socket, head));
  }

  private onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(req.url ?? '');
    if (!m) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    const host = m[1] ?? m[2]!;
    const port = Number(m[3]);
    this.opts.open(host, port).then(
      (stream) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) stream.write(head);
        splice(socket, stream);
      },
      (err: Error) => {
        this.opts.onError?.(err, req.url ?? '');
        const a = failureAnswer(err);
        const headers = Object.entries({ ...a.headers, 'content-length': String(Buffer.byteLength(a.body)), connection: 'close' })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        if (!socket.destroyed) socket.end(`HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status] ?? 'Error'}\r\n${headers}\r\n${a.body}`);
      },
    );
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('This is a proxy: it takes absolute-form requests (GET http://host/path) and CONNECT.\n');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`Only http: URLs go in plain form; use CONNECT for ${url.protocol}.\n`);
      return;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? 80 : Number(url.port);
    const destination = formatDestination(host, port); // with the port, which URL leaves out when it is 80
    const headers = withoutHopByHop(req.rawHeaders);
    const p = this.opts.propagate;
    if (p !== undefined && !carriesClaim(req.rawHeaders, p.header)) headers.push(p.header, p.value);
    this.opts.open(host, port).then(
      (stream) => {
        // Node's client writes the head in origin-form and frames the body as the program did.
        const upstream = http.request({
          // A socket path keeps the editor's proxy agent from dialing by itself (see dialed-request).
          socketPath: DIALED_HOST,
          createConnection: () => stream,
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers: headers as unknown as http.OutgoingHttpHeaders,
          setHost: false,
          // No agent: then Node takes createConnection, and closes after the one request.
        });
        upstream.on('response', (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.rawHeaders));
          answer.pipe(res);
          answer.on('error', () => res.destroy());
        });
        upstream.on('error', (err) => {
          if (res.headersSent) res.destroy();
          else this.fail(res, err, destination);
        });
        res.on('close', () => {
          if (!res.writableFinished) upstream.destroy();
        });
        req.pipe(upstream);
      },
      (err: Error) => this.fail(res, err, destination),
    );
  }

  private fail(res: http.ServerResponse, err: Error, destination: string): void {
    this.opts.onError?.(err, destination);
    const a = failureAnswer(err);
    res.writeHead(a.status, a.headers).end(a.body);
  }
}
