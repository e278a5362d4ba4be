// A server on 127.0.0.1 (a free port unless one is asked for) that knows its open connections, so
// that closing it ends them too: what the local forwards and the HTTP proxy listen with.
import { once } from 'node:events';
import type * as net from 'node:net';

export class LoopbackListener {
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly server: net.Server,
    private readonly localPort = 0,
  ) {
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<number> {
    this.server.listen(this.localPort, '127.0.0.1');
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
}
