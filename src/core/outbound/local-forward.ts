// A listener on 127.0.0.1 that stands for one destination in the pod's network (a Service's
// host:port): each connection is piped, byte for byte, to a stream the sidecar dials from the pod.
// Any TCP protocol works (HTTP, gRPC, PostgreSQL, Redis): nothing here reads the bytes.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { LoopbackListener } from './loopback-listener';
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

export class LocalForward extends LoopbackListener {
  constructor(private readonly opts: LocalForwardOptions) {
    super(
      net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onConnection(socket)),
      opts.localPort,
    );
  }

  private onConnection(socket: net.Socket): void {
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
