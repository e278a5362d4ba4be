// The way into the demo cluster's Service from the laptop: a TCP listener on 127.0.0.1 that sends
// each connection to one ready pod behind the Service, on the Service's current target port, as
// kube-proxy would inside the cluster. Requests sent here take the same path as a teammate's.
import net from 'node:net';
import { LoopbackListener } from '../../src/core/outbound/loopback-listener.js';
import { splice } from '../../src/core/outbound/splice.js';
import { connectService } from '../../test/harness/cluster/service.js';

export interface ServiceEntry {
  readonly port: number;
  close(): Promise<void>;
}

export async function openServiceEntry(namespace: string, service: string, servicePort: number): Promise<ServiceEntry> {
  const listener = new LoopbackListener(
    net.createServer((client) => {
      client.on('error', () => client.destroy());
      connectService(namespace, service, servicePort).then(
        ({ socket }) => splice(client, socket),
        () => client.destroy(),
      );
    }),
  );
  const port = await listener.listen();
  return { port, close: () => listener.close() };
}
