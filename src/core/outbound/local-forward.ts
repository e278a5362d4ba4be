// A listener on 127.0.0.1 that stands for one destination in the pod's network (a Service's
// host:port): each connection is piped, byte for byte, to a stream the sidecar dials from the pod.
// Any TCP protocol works (HTTP, gRPC, PostgreSQL, Redis): nothing here reads the bytes.
import { once } from 'node:events';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { splice } from './splice';

/** Opens a stream to host:port from the pod (OutboundClient.open). */
export type OpenOutbound = (host: string, port: number) => Promise<Duplex>;

export interface LocalForwardOptions {
  readonly open: OpenOutbound;
  /** The destination as the pod names it, e.g. `orders.shop.svc.cluster.local`. */
  readonly host: string;
  readonly port: number;
  /** The local port; 0 (the default) takes a free one. */
  readonly localPort?: number;
  /** A connection could not be opened: the local client gets a TCP reset. */
  readonly onError?: (err: Error) => void;
}

export class LocalForward {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly opts: LocalForwardOptions) {
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onConnection(socket));
  }

  async listen(): Promise<number> {
    this.server.listen(this.opts.localPort ?? 0, '127.0.0.1');
    await once(this.server, 'listening');
    return this.port;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.close();
    if (this.server.listening) await once(this.server, 'close');
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pause(); // whatever the client sends first waits for the stream
    this.opts.open(this.opts.host, this.opts.port).then(
      (stream) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        splice(socket, stream);
        socket.resume();
      },
      (err: Error) => {
        this.opts.onError?.(err);
        if (!socket.destroyed) socket.resetAndDestroy();
      },
    );
  }
}
