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
      assert.equal(await sidecar.waitForExit(10_000), 0);
      idleAgent.destroy();
    } finally {
      await sidecar.stop();
      await app.close();
    }
  });

  it('goes on serving for the shutdown delay after SIGTERM, answering /readyz 503, while the endpoints catch up', async () => {
    const app = await startNamedServer('app');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port], shutdownDelaySeconds: 2 });
    try {
      assert.equal((await get(sidecar.healthPort, '/readyz')).status, 200);
      const signalled = Date.now();
      sidecar.child.kill('SIGTERM');
      await sidecar.waitForLog((l) => l.msg === 'stopping');
      const ready = await get(sidecar.healthPort, '/readyz');
      assert.equal(ready.status, 503, 'the pod leaves the endpoints');
      assert.equal((await get(sidecar.healthPort, '/healthz')).status, 200, 'but is not restarted');
      const late = await get(sidecar.port, '/late');
      assert.equal(late.status, 200, 'a connection that arrives after SIGTERM, within the delay, is served');
      assert.equal(late.body, 'app GET /late');
      assert.equal(await sidecar.waitForExit(10_000), 0);
      assert.ok(Date.now() - signalled >= 2_000, 'it did not stop accepting before the delay');
    } finally {
      await sidecar.stop();
      await app.close();
    }
  });
});
