// Raw TCP for tests that need exact bytes on the wire: a client that sends given bytes and collects
// the answer, and a server that records what it receives and answers only what a test tells it to.
import * as net from 'node:net';
import { once } from 'node:events';

/** A client connection that writes exact bytes and collects everything that comes back. */
export class RawClient {
  private readonly chunks: Buffer[] = [];
  private readonly closing: Promise<unknown>;
  /** The peer reset the connection (rather than closing it with a FIN). */
  reset = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => this.chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => (this.reset ||= err.code === 'ECONNRESET')); // an ending like any other here
    this.closing = new Promise((resolve) => socket.once('close', resolve));
  }

  static async connect(port: number): Promise<RawClient> {
    const client = new RawClient(net.connect({ host: '127.0.0.1', port }));
    await once(client.socket, 'connect');
    return client;
  }

  /** Resolves once the bytes were handed to the kernel (or the connection is gone). */
  write(bytes: string | Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, () => resolve()));
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Everything received, once the peer closed; rejects, saying what came so far, after `timeoutMs`. */
  async untilClosed(timeoutMs = 5000): Promise<Buffer> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the connection was still open after ${timeoutMs} ms; received ${JSON.stringify(this.received().toString('latin1'))}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.closing, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.received();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `parts` one after the other on a new connection and returns all that comes back until the peer closes. */
export async function exchangeRaw(port: number, parts: ReadonlyArray<string | Buffer>, timeoutMs = 5000): Promise<Buffer> {
  const client = await RawClient.connect(port);
  try {
    for (const part of parts) await client.write(part);
    return await client.untilClosed(timeoutMs);
  } finally {
    client.destroy();
  }
}

export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received so far. */
  readonly received: () => Buffer;
  readonly closed: () => boolean;
}

export interface RawServer {
  readonly port: number;
  /** Accepted connections, in order. */
  readonly connections: RawConnection[];
  /** Everything all connections received, in order of connection. */
  received(): Buffer;
  close(): Promise<void>;
}

/** A TCP server on loopback that records each connection's bytes; `onConnection` may answer. */
export async function startRawServer(onConnection?: (conn: RawConnection) => void): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    const conn: RawConnection = { socket, received: () => Buffer.concat(chunks), closed: () => closed };
    connections.push(conn);
    onConnection?.(conn);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    received: () => Buffer.concat(connections.map((c) => c.received())),
    close: async () => {
      for (const c of connections) c.socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
