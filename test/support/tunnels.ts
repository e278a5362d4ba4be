// Opens tunnel clients to a test sidecar over plain TCP to its control port, as the extension will
// over a Kubernetes port-forward, and a relay in between that a test can cut to simulate a drop.
import * as net from 'node:net';
import { once } from 'node:events';
import { OutboundClient, type OutboundClientOptions } from '../../src/core/outbound/outbound-client';
import { TunnelClient, type TunnelClientOptions } from '../../src/core/tunnel/tunnel-client';
import type { SidecarProcess } from './sidecar-process';

export function dialTcp(port: number): () => Promise<net.Socket> {
  return async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    return socket;
  };
}

export async function openTunnel(
  sidecar: SidecarProcess,
  value: string,
  localPort: number,
  more: Partial<TunnelClientOptions> = {},
): Promise<TunnelClient> {
  const client = new TunnelClient({
    dial: dialTcp(sidecar.controlPort),
    claim: { header: 'x-intercept-id', value },
    developer: value.split('-')[0]!,
    local: { host: '127.0.0.1', port: localPort },
    backoff: { initialMs: 50, maxMs: 200, jitter: 0 },
    ...more,
  });
  await client.start();
  return client;
}

/** Opens an outbound session on a test sidecar with the lease of a claim (a TunnelClient's `lease`). */
export async function openOutbound(sidecar: SidecarProcess, lease: string, more: Partial<OutboundClientOptions> = {}): Promise<OutboundClient> {
  const client = new OutboundClient({ dial: dialTcp(sidecar.controlPort), lease, backoff: { initialMs: 50, maxMs: 200, jitter: 0 }, ...more });
  await client.start();
  return client;
}

/** A TCP relay to `targetPort` that can drop its connections and refuse new ones on demand. */
export class CuttableRelay {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs: Array<[client: net.Socket, upstream: net.Socket]> = [];
  private open = true;
  port = 0;
  /** Bytes that arrived from the target while frozen (and were dropped). */
  frozenBytesFromTarget = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => {
      this.sockets.add(client);
      client.once('close', () => this.sockets.delete(client));
      if (!this.open) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: this.targetPort });
      this.sockets.add(upstream);
      upstream.once('close', () => this.sockets.delete(upstream));
      this.pairs.push([client, upstream]);
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
    });
  }

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /**
   * Stops carrying bytes while keeping every connection open: a laptop that went to sleep or off the
   * network, whose connections neither side has noticed are dead yet.
   */
  freeze(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.on('data', () => undefined).resume();
      upstream.on('data', (c: Buffer) => (this.frozenBytesFromTarget += c.length)).resume();
    }
  }

  /** Drops every connection at once (the laptop's network went away). */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  setOpen(open: boolean): void {
    this.open = open;
  }

  async close(): Promise<void> {
    this.cut();
    this.server.close();
    await once(this.server, 'close');
  }
}
