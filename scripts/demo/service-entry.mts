// The way into the demo cluster's Service from the laptop: a TCP listener on 127.0.0.1 that sends
// each connection to one ready pod behind the Service, on the Service's current target port, as
// kube-proxy would inside the cluster. Requests sent here take the same path as a teammate's.
import net from 'node:net';
import { once } from 'node:events';
import { connectService } from '../../test/harness/cluster/service.js';

export interface ServiceEntry {
  readonly port: number;
  close(): Promise<void>;
}

export async function openServiceEntry(namespace: string, service: string, servicePort: number): Promise<ServiceEntry> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    connectService(namespace, service, servicePort).then(
      ({ socket }) => {
        socket.on('error', () => client.destroy());
        client.once('close', () => socket.destroy());
        socket.once('close', () => client.destroy());
        client.pipe(socket).pipe(client);
      },
      () => client.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
