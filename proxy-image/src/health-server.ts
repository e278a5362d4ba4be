// Probes: /healthz and /readyz answer 200 while the sidecar serves. Nothing else is exposed here.
import * as http from 'node:http';
import { HEALTH_PATHS } from '../../src/protocol/constants';

export function createHealthServer(): http.Server {
  const paths: readonly string[] = HEALTH_PATHS;
  const server = http.createServer((req, res) => {
    const ok = req.method === 'GET' && paths.includes((req.url ?? '').split('?')[0]!);
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not found\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
