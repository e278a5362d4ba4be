// Probes: /healthz answers 200 while the process runs; /readyz too, until the sidecar is stopping,
// when it answers 503 so that the pod leaves the Service's endpoints. Nothing else is exposed here.
import * as http from 'node:http';
import { HEALTH_PATHS } from '../../src/protocol/constants';

export function createHealthServer(stopping: () => boolean): http.Server {
  const paths: readonly string[] = HEALTH_PATHS;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const ok = req.method === 'GET' && paths.includes(path);
    if (ok && path === '/readyz' && stopping()) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('stopping\n');
      return;
    }
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not found\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
