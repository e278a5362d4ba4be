// An intercept's outbound connections as the editor opens them (InterceptOutbound), against a real
// sidecar started with --outbound: one local forward per destination however often it is asked for,
// the HTTP proxy adding the developer's header, and `close` ending every listener and the session.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { dialTcp, openTunnel } from '../support/tunnels';
import { InterceptOutbound } from '../../src/core/outbound/intercept-outbound';
import type { OutboundError } from '../../src/core/outbound/outbound-error';
import type { TunnelClient } from '../../src/core/tunnel/tunnel-client';

/** True when connecting to 127.0.0.1:port is refused (nothing listens). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('the outbound connections of one intercept', () => {
  let app: NamedServer;
  let local: NamedServer;
  let billing: NamedServer; // another Service, reached from the pod
  let sidecar: SidecarProcess;
  let tunnel: TunnelClient;

  before(async () => {
    app = await startNamedServer('app');
    local = await startNamedServer('ana-laptop');
    billing = await startNamedServer('billing');
    sidecar = await SidecarProcess.start({ appPorts: [app.port], extraArgs: ['--outbound'] });
    tunnel = await openTunnel(sidecar, 'ana-4f2c', local.port);
  });

  after(async () => {
    await tunnel.close();
    await sidecar.stop();
    await Promise.all([app.close(), local.close(), billing.close()]);
  });

  it('opens one forward per destination, proxies HTTP with the header, and closes everything', async () => {
    const outbound = new InterceptOutbound({ dial: dialTcp(sidecar.controlPort), lease: tunnel.lease, propagate: { header: 'x-intercept-id', value: 'ana-4f2c' } });
    let closed = false;
    try {
      const [first, again] = await Promise.all([outbound.forward('127.0.0.1', billing.port), outbound.forward('127.0.0.1', billing.port)]);
      assert.equal(first, again, 'one listener for one destination');
      assert.deepEqual([...(await outbound.listening())], [[`127.0.0.1:${billing.port}`, first]]);
      const direct = await get(first, '/invoices', { host: 'billing' });
      assert.deepEqual([direct.status, direct.body], [200, 'billing GET /invoices']);

      const before = billing.seen.length;
      const viaProxy = await get(outbound.proxyPort, `http://127.0.0.1:${billing.port}/charge`);
      assert.deepEqual([viaProxy.status, viaProxy.body], [200, 'billing GET /charge']);
      const seen = billing.seen[before]!;
      assert.equal(seen.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-intercept-id') + 1], 'ana-4f2c');

      const ports = [first, outbound.proxyPort];
      await outbound.close();
      closed = true;
      for (const port of ports) assert.equal(await refused(port), true, `nothing listens on ${port} after close`);
      await assert.rejects(outbound.forward('127.0.0.1', app.port), /closed/);
    } finally {
      if (!closed) await outbound.close();
    }
  });

  it('rejects start with the sidecar\'s reason when the lease holds no claim there', async () => {
    const outbound = new InterceptOutbound({ dial: dialTcp(sidecar.controlPort), lease: 'no-claim-of-this-lease' });
    try {
      await assert.rejects(outbound.start(), (err: unknown) => (err as OutboundError).reason === 'no-claim');
      await assert.rejects(outbound.forward('127.0.0.1', billing.port), (err: unknown) => (err as OutboundError).reason === 'no-claim');
    } finally {
      await outbound.close();
    }
  });
});
