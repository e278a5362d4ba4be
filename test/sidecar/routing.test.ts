// Issue tests 2, 3 and 4: requests with a claimed header (or baggage member) reach the developer's
// local server and nothing else does; two developers at once never see each other's requests;
// claims are exclusive.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import WebSocket from 'ws';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { dialTcp, openTunnel } from '../support/tunnels';
import { waitFor, waitForClaims } from '../support/wait';
import { TunnelError } from '../../src/core/tunnel/errors';
import { TunnelClient } from '../../src/core/tunnel/tunnel-client';
import type { InterceptedRequest } from '../../src/core/tunnel/exchange-observer';

describe('routing by claim', () => {
  let app: NamedServer;
  let ana: NamedServer;
  let bo: NamedServer;
  let sidecar: SidecarProcess;
  let anaTunnel: TunnelClient;
  let boTunnel: TunnelClient;
  const anaRequests: InterceptedRequest[] = [];

  before(async () => {
    app = await startNamedServer('app');
    ana = await startNamedServer('ana-laptop');
    bo = await startNamedServer('bo-laptop');
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    anaTunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port);
    anaTunnel.on('request', (r) => anaRequests.push(r));
    boTunnel = await openTunnel(sidecar, 'bo-91aa', bo.port);
  });

  after(async () => {
    await anaTunnel.close();
    await boTunnel.close();
    await sidecar.stop();
    await Promise.all([app.close(), ana.close(), bo.close()]);
  });

  it('sends a request with the claimed header to the local server and not to the app', async () => {
    const appSeen = app.seen.length;
    const r = await get(sidecar.port, '/orders?id=7', { 'x-intercept-id': 'ana-4f2c' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ana-laptop GET /orders?id=7');
    assert.equal(app.seen.length, appSeen, 'the app must not see the intercepted request');
  });

  it('matches the header name in any case but the value exactly', async () => {
    assert.equal((await get(sidecar.port, '/', { 'X-Intercept-ID': 'ana-4f2c' })).body, 'ana-laptop GET /');
    assert.equal((await get(sidecar.port, '/', { 'x-intercept-id': 'ANA-4F2C' })).body, 'app GET /');
    assert.equal((await get(sidecar.port, '/', { 'x-intercept-id': 'ana-4f2c2' })).body, 'app GET /');
  });

  it('routes a W3C baggage member with the same key and value', async () => {
    const r = await get(sidecar.port, '/b', { baggage: 'userId=alice, x-intercept-id=ana-4f2c;ttl=1, other=x' });
    assert.equal(r.body, 'ana-laptop GET /b');
    const other = await get(sidecar.port, '/b', { baggage: 'x-intercept-id=nobody' });
    assert.equal(other.body, 'app GET /b');
  });

  it('reports each intercepted request to the extension without userinfo, path parameters or query', async () => {
    for (const target of ['/report?token=secret', '/report;jsessionid=secret', 'http://user:secret@host.example/report%3Fsecret']) {
      const before = anaRequests.length;
      await get(sidecar.port, target, { 'x-intercept-id': 'ana-4f2c' });
      await waitFor(() => anaRequests.length > before, 'request event');
      const last = anaRequests.at(-1)!;
      assert.equal(last.method, 'GET');
      assert.equal(last.path, '/report', target);
      assert.equal(last.status, 200);
      assert.ok(last.bytesIn > 0 && last.bytesOut > 0);
    }
  });

  it('routes a WebSocket upgrade by the header, and the socket stays with the local server', async () => {
    const viaTunnel = new WebSocket(`ws://127.0.0.1:${sidecar.port}/ws`, { headers: { 'x-intercept-id': 'ana-4f2c' } });
    const viaApp = new WebSocket(`ws://127.0.0.1:${sidecar.port}/ws`);
    await Promise.all([once(viaTunnel, 'open'), once(viaApp, 'open')]);
    viaTunnel.send('hello');
    viaApp.send('hello');
    const [[a], [b]] = (await Promise.all([once(viaTunnel, 'message'), once(viaApp, 'message')])) as [[Buffer], [Buffer]];
    assert.equal(String(a), 'ana-laptop: hello');
    assert.equal(String(b), 'app: hello');
    viaTunnel.close();
    viaApp.close();
    await Promise.all([once(viaTunnel, 'close'), once(viaApp, 'close')]);
  });

  it('keeps 2,000 interleaved requests of two developers and of nobody on their own routes', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const kinds = ['ana-4f2c', 'bo-91aa', null] as const;
    const expected = { 'ana-4f2c': 'ana-laptop', 'bo-91aa': 'bo-laptop', none: 'app' };
    let misroutes = 0;
    let done = 0;
    const total = 2000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const kind = kinds[(i * 7 + (i >> 3)) % 3]!;
        const r = await get(sidecar.port, `/r/${i}`, kind ? { 'x-intercept-id': kind } : {}, agent);
        const want = expected[kind ?? 'none'];
        if (r.status !== 200 || r.body !== `${want} GET /r/${i}` || r.headers['x-served-by'] !== want) misroutes++;
        done++;
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    agent.destroy();
    assert.equal(done, total);
    assert.equal(misroutes, 0);
  });

  it('runs over any duplex stream, as a Kubernetes port-forward will give it, not only a TCP socket', async () => {
    const carl = await startNamedServer('carl-laptop');
    // A plain Duplex in front of the socket: no setNoDelay, setTimeout or other net.Socket methods.
    const dial = async (): Promise<Duplex> => {
      const socket = net.connect({ host: '127.0.0.1', port: sidecar.controlPort });
      await once(socket, 'connect');
      const wrapped = new Duplex({
        read: () => socket.resume(),
        write: (chunk: Buffer, _enc, cb) => (socket.write(chunk) ? cb() : socket.once('drain', () => cb())),
        final: (cb) => socket.end(cb),
        destroy: (err, cb) => {
          socket.destroy();
          cb(err);
        },
      });
      socket.on('data', (c: Buffer) => wrapped.push(c) || socket.pause());
      socket.on('end', () => wrapped.push(null));
      socket.on('error', (err) => wrapped.destroy(err));
      return wrapped;
    };
    const tunnel = await openTunnel(sidecar, 'carl-duplex', carl.port, { developer: 'carl', dial });
    try {
      assert.equal((await get(sidecar.port, '/d', { 'x-intercept-id': 'carl-duplex' })).body, 'carl-laptop GET /d');
    } finally {
      await tunnel.close();
      await carl.close();
    }
  });

  it('routes each of 60 pipelined requests on one connection by its own header, answers in order', async () => {
    const kinds = ['ana-4f2c', null, 'bo-91aa'] as const;
    const want = { 'ana-4f2c': 'ana-laptop', 'bo-91aa': 'bo-laptop', none: 'app' };
    let pipeline = '';
    let expected = '';
    for (let i = 0; i < 60; i++) {
      const kind = kinds[i % 3]!;
      pipeline += `GET /p/${i} HTTP/1.1\r\nHost: x\r\n${kind ? `x-intercept-id: ${kind}\r\n` : ''}${i === 59 ? 'Connection: close\r\n' : ''}\r\n`;
      expected += `${want[kind ?? 'none']} GET /p/${i}`;
    }
    const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
    let raw = '';
    socket.setEncoding('latin1').on('data', (c: string) => (raw += c));
    socket.write(pipeline); // all at once: the sidecar must split them itself
    await once(socket, 'close');
    const bodies = [...raw.matchAll(/\r\n\r\n(?:[0-9a-f]+\r\n)?([a-z-]+ GET \/p\/\d+)/g)].map((m) => m[1]).join('');
    assert.equal(bodies, expected);
  });

  it('streams 20 MB both ways through the tunnel unchanged', async () => {
    const echo = await startNamedServer('echo-laptop', (req, res) => {
      if (req.url !== '/echo') return false;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res); // chunked response of whatever arrives
      return true;
    });
    const tunnel = await openTunnel(sidecar, 'big-1', echo.port, { developer: 'eve' });
    try {
      const payload = randomBytes(20 * 1024 * 1024);
      const req = http.request({ host: '127.0.0.1', port: sidecar.port, method: 'POST', path: '/echo', agent: false, headers: { 'x-intercept-id': 'big-1', 'content-length': payload.length } });
      req.end(payload);
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const back = Buffer.concat(chunks);
      assert.equal(res.statusCode, 200);
      assert.equal(back.length, payload.length);
      assert.ok(back.equals(payload));
    } finally {
      await tunnel.close();
      await echo.close();
    }
  });

  it('answers probes on the health port and lists claims on the control port', async () => {
    assert.deepEqual([(await get(sidecar.healthPort, '/healthz')).status, (await get(sidecar.healthPort, '/readyz')).status], [200, 200]);
    assert.equal((await get(sidecar.healthPort, '/v1/status')).status, 404, 'claims are not shown on the health port');
    const status = JSON.parse((await get(sidecar.controlPort, '/v1/status')).body) as {
      protocol: number;
      protocols: number[];
      features: string[];
      claims: Array<{ port: number; header: string; value: string; developer: string; state: string }>;
    };
    assert.deepEqual([status.protocol, status.protocols, status.features], [2, [1, 2], []], 'version 2, which speaks 1 too; outbound off');
    const ana = status.claims.find((c) => c.value === 'ana-4f2c');
    assert.deepEqual(
      ana && { port: ana.port, header: ana.header, developer: ana.developer, state: ana.state },
      { port: sidecar.port, header: 'x-intercept-id', developer: 'ana', state: 'connected' },
    );
    assert.ok(!JSON.stringify(status).includes(anaTunnel.lease), 'the lease is never shown');
  });

  it('a tunnel closed while its handshake is under way ends closed, holding no claim', async () => {
    const tunnel = new TunnelClient({
      dial: dialTcp(sidecar.controlPort),
      claim: { header: 'x-intercept-id', value: 'early-close' },
      developer: 'eve',
      local: { host: '127.0.0.1', port: ana.port },
    });
    const started = tunnel.start();
    const closed = tunnel.close();
    await started;
    await closed;
    assert.equal(tunnel.state, 'closed');
    await waitForClaims(sidecar.controlPort, (claims) => !claims.some((c) => c.value === 'early-close'));
    assert.equal((await get(sidecar.port, '/e', { 'x-intercept-id': 'early-close' })).body, 'app GET /e');
  });

  it('refuses a held claim with 409 naming the holder, and grants it after release', async () => {
    const carl = await startNamedServer('carl-laptop');
    try {
      await assert.rejects(openTunnel(sidecar, 'ana-4f2c', carl.port, { developer: 'carl' }), (err: unknown) => {
        assert.ok(err instanceof TunnelError);
        assert.equal(err.failure.kind, 'claim-held');
        assert.ok(err.failure.kind === 'claim-held' && err.failure.holder.developer === 'ana');
        assert.match(err.message, /already intercepted by ana/);
        return true;
      });
      const held = await openTunnel(sidecar, 'carl-1', carl.port, { developer: 'carl' });
      await held.close();
      await waitForClaims(sidecar.controlPort, (claims) => !claims.some((c) => c.value === 'carl-1'));
      const again = await openTunnel(sidecar, 'carl-1', carl.port, { developer: 'dana' });
      assert.equal((await get(sidecar.port, '/', { 'x-intercept-id': 'carl-1' })).body, 'carl-laptop GET /');
      await again.close();
    } finally {
      await carl.close();
    }
  });
});
