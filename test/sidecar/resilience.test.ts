// Issue tests 5 and 6: a tunnel that drops, comes back, or stays away; a developer whose local port
// refuses. Requests without the header never fail meanwhile.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { SidecarProcess, freePort } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { CuttableRelay, dialTcp, openTunnel } from '../support/tunnels';
import type { TunnelClient, TunnelState } from '../../src/core/tunnel/tunnel-client';

const GRACE_SECONDS = 2;
const ANA = { 'x-intercept-id': 'ana-4f2c' };

/** Sends requests without a header one after another until stopped; counts failures. */
function backgroundTraffic(port: number): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const failed: string[] = [];
  let ok = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const loop = (async () => {
    for (let i = 0; running && i < 100_000; i++) {
      try {
        const r = await get(port, `/bg/${i}`, {}, agent);
        if (r.status === 200 && r.body === `app GET /bg/${i}`) ok++;
        else failed.push(`${r.status} ${r.body}`);
      } catch (err) {
        failed.push((err as Error).message);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return { ok, failed };
    },
  };
}

function waitForState(client: TunnelClient, state: TunnelState): Promise<void> {
  if (client.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (s: TunnelState): void => {
      if (s === state) {
        client.off('state', on);
        resolve();
      }
    };
    client.on('state', on);
  });
}

describe('tunnel drops and grace', () => {
  let app: NamedServer;
  let ana: NamedServer;
  let sidecar: SidecarProcess;
  let relay: CuttableRelay;
  const held: Array<() => void> = [];
  let heldSeen: (() => void) | null = null;

  before(async () => {
    app = await startNamedServer('app');
    ana = await startNamedServer('ana-laptop', (req, res) => {
      if (req.url !== '/hold') return false;
      held.push(() => res.end('released'));
      heldSeen?.();
      return true;
    });
    sidecar = await SidecarProcess.start({ appPorts: [app.port], graceSeconds: GRACE_SECONDS });
    relay = await new CuttableRelay(sidecar.controlPort).listen();
  });

  after(async () => {
    for (const release of held) release();
    await relay.close();
    await sidecar.stop();
    await Promise.all([app.close(), ana.close()]);
  });

  it('fails in-flight requests cleanly, holds new ones through a reconnect, and answers 503 after the grace', async () => {
    const tunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port, { dial: dialTcp(relay.port) });
    const traffic = backgroundTraffic(sidecar.port);
    try {
      assert.equal((await get(sidecar.port, '/', ANA)).body, 'ana-laptop GET /');

      // 1. A request in flight when the tunnel drops fails with an answer, not a hang.
      const seen = new Promise<void>((r) => (heldSeen = r));
      const inFlight = get(sidecar.port, '/hold', ANA);
      await seen;
      relay.setOpen(false);
      relay.cut();
      const failed = await inFlight;
      assert.equal(failed.status, 502);
      assert.match(failed.body, /tunnel of developer "ana" closed/);

      // 2. During the grace, requests wait; the reconnect lets them through.
      await waitForState(tunnel, 'reconnecting');
      const waiting = get(sidecar.port, '/waited', ANA);
      await sidecar.waitForLog((l) => l.msg === 'tunnel dropped, grace period started');
      let settled = false;
      void waiting.finally(() => (settled = true));
      const status = JSON.parse((await get(sidecar.controlPort, '/v1/status')).body) as { claims: Array<{ state: string }> };
      assert.equal(status.claims[0]?.state, 'grace');
      assert.equal(settled, false, 'the request waits for the tunnel');
      relay.setOpen(true);
      const resumed = await waiting;
      assert.equal(resumed.status, 200);
      assert.equal(resumed.body, 'ana-laptop GET /waited');
      await waitForState(tunnel, 'connected');

      // 3. A tunnel that stays away: after the grace, 503 naming claim and developer; the claim ends.
      relay.setOpen(false);
      relay.cut();
      const started = Date.now();
      const late = await get(sidecar.port, '/late', ANA);
      assert.equal(late.status, 503);
      assert.match(late.body, /developer "ana"/);
      assert.match(late.body, /x-intercept-id: ana-4f2c/);
      assert.ok(Date.now() - started >= GRACE_SECONDS * 1000 - 1500, 'answered only when the grace ran out');
      const after = JSON.parse((await get(sidecar.controlPort, '/v1/status')).body) as { claims: unknown[] };
      assert.deepEqual(after.claims, []);
      assert.equal((await get(sidecar.port, '/after', ANA)).body, 'app GET /after', 'a released claim routes to the app again');
    } finally {
      await tunnel.close();
      const { ok, failed } = await traffic.stop();
      assert.deepEqual(failed, [], 'traffic without the header never fails');
      assert.ok(ok > 0);
    }
  });
});

describe('local port closed', () => {
  it('answers 502 saying nothing listens on the developer\'s port, and keeps serving', async () => {
    const app = await startNamedServer('app');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    const closedPort = await freePort();
    const tunnel = await openTunnel(sidecar, 'ana-4f2c', closedPort);
    const localErrors: string[] = [];
    tunnel.on('localError', (code, address) => localErrors.push(`${code} ${address}`));
    try {
      const r = await get(sidecar.port, '/x', ANA);
      assert.equal(r.status, 502);
      assert.match(r.body, new RegExp(`nothing listens on 127\\.0\\.0\\.1:${closedPort} on the machine of developer "ana"`));
      assert.deepEqual(localErrors, [`ECONNREFUSED 127.0.0.1:${closedPort}`]);
      assert.equal((await get(sidecar.port, '/y')).body, 'app GET /y');
      const again = await get(sidecar.port, '/z', ANA);
      assert.equal(again.status, 502, 'the claim stays; each request is answered');
      assert.ok(sidecar.alive);
    } finally {
      await tunnel.close();
      await sidecar.stop();
      await app.close();
    }
  });
});
