// Issue test 7: a paused debuggee (its server stops reading) holds back only its own stream. Another
// developer's and everyone else's traffic keeps flowing, and the sidecar's memory stays bounded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { openTunnel } from '../support/tunnels';
import type { TunnelClient } from '../../src/core/tunnel/tunnel-client';

const MB = 1024 * 1024;

async function latencies(port: number, headers: http.OutgoingHttpHeaders, count: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    const r = await get(port, `/l/${i}`, headers, agent);
    assert.equal(r.status, 200);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  agent.destroy();
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('a paused debuggee', () => {
  let app: NamedServer;
  let bo: NamedServer;
  let paused: net.Server;
  const pausedSockets: net.Socket[] = [];
  let sidecar: SidecarProcess;
  let anaTunnel: TunnelClient;
  let boTunnel: TunnelClient;

  before(async () => {
    app = await startNamedServer('app');
    bo = await startNamedServer('bo-laptop');
    // Ana's program sits on a breakpoint: it accepted the connection and reads nothing.
    paused = net.createServer((s) => {
      s.pause();
      pausedSockets.push(s);
    });
    paused.listen(0, '127.0.0.1');
    await once(paused, 'listening');
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    anaTunnel = await openTunnel(sidecar, 'ana-4f2c', (paused.address() as net.AddressInfo).port);
    boTunnel = await openTunnel(sidecar, 'bo-91aa', bo.port);
  });

  after(async () => {
    if (process.env.DEBUG_SIDECAR) console.log(sidecar.rawOutput);
    await anaTunnel.close();
    await boTunnel.close();
    await sidecar.stop();
    for (const s of pausedSockets) s.destroy();
    paused.close();
    await Promise.all([app.close(), bo.close()]);
  });

  it('stalls only its own upload while other traffic flows and memory stays bounded', async () => {
    const baseApp = await latencies(sidecar.port, {}, 200);
    const baseBo = await latencies(sidecar.port, { 'x-intercept-id': 'bo-91aa' }, 200);
    const rssBefore = sidecar.rss();

    // Offer Ana's paused program 512 MB; backpressure must stop the client long before that.
    const offered = 512 * MB;
    const upload = http.request({
      host: '127.0.0.1',
      port: sidecar.port,
      method: 'POST',
      path: '/upload',
      agent: false,
      headers: { 'x-intercept-id': 'ana-4f2c', 'content-length': offered },
    });
    upload.on('error', () => undefined); // destroyed at the end of the test
    let accepted = 0;
    let blocked = false;
    const chunk = Buffer.alloc(256 * 1024, 7);
    const writer = (async () => {
      while (accepted < offered && !upload.destroyed) {
        accepted += chunk.length;
        if (!upload.write(chunk)) {
          blocked = true;
          await new Promise<void>((resolve) => {
            const done = (): void => {
              upload.off('drain', done);
              upload.off('close', done);
              resolve();
            };
            upload.on('drain', done);
            upload.on('close', done);
          });
          blocked = false;
        }
      }
    })();

    const duringApp = await latencies(sidecar.port, {}, 200);
    const duringBo = await latencies(sidecar.port, { 'x-intercept-id': 'bo-91aa' }, 200);
    const rssDuring = sidecar.rss();

    assert.ok(blocked, 'the upload is held back by backpressure');
    assert.ok(accepted < 64 * MB, `only a bounded amount was accepted from the client: ${(accepted / MB).toFixed(1)} MB`);
    const growth = rssDuring - rssBefore;
    assert.ok(growth < 48 * MB, `sidecar RSS grew by ${(growth / MB).toFixed(1)} MB`);
    // Loose bounds on purpose: the point is "not stalled behind the paused stream", not a speed figure.
    for (const [name, base, during] of [['app', baseApp, duringApp], ['bo', baseBo, duringBo]] as const) {
      assert.ok(median(during) < median(base) * 5 + 5, `${name}: median ${median(during).toFixed(2)} ms during vs ${median(base).toFixed(2)} ms before`);
    }

    upload.destroy();
    await writer;
  });
});
