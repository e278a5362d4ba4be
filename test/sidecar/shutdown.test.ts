// Rule 1 at shutdown: when the sidecar's pod stops (SIGTERM), no teammate's request in flight is
// cut. It stops accepting, closes idle connections, lets the exchange in flight finish, then exits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer } from '../support/servers';

describe('shutdown', () => {
  it('drains: idle connections close, the request in flight completes, new connections are refused', async () => {
    const appHold: { release?: () => void; holding?: () => void } = {};
    const app = await startNamedServer('app', (req, res) => {
      if (req.url !== '/hold') return false;
      appHold.release = () => res.end('finished after SIGTERM');
      appHold.holding?.();
      return true;
    });
    const sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    try {
      const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      await get(sidecar.port, '/warm', {}, idleAgent);
      const idleSocket = (Object.values(idleAgent.freeSockets)[0] ?? [])[0];
      assert.ok(idleSocket, 'one idle keep-alive connection');
      const idleClosed = once(idleSocket, 'close');

      const held = new Promise<void>((r) => (appHold.holding = r));
      const inFlight = get(sidecar.port, '/hold');
      await held;

      const exited = once(sidecar.child, 'exit');
      sidecar.child.kill('SIGTERM');
      await sidecar.waitForLog((l) => l.msg === 'stopping');
      await idleClosed;

      const refused = net.connect({ host: '127.0.0.1', port: sidecar.port });
      const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
      assert.equal(err.code, 'ECONNREFUSED');

      assert.ok(appHold.release);
      appHold.release();
      const answer = await inFlight;
      assert.equal(answer.status, 200);
      assert.equal(answer.body, 'finished after SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
      idleAgent.destroy();
    } finally {
      await sidecar.stop();
      await app.close();
    }
  });
});
