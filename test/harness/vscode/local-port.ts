// Whether the program a test debugs listens yet: for waitUntil, which retries on undefined.
import * as net from 'node:net';

/** True once something accepts connections on 127.0.0.1:port; undefined before. */
export function acceptsConnections(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}
