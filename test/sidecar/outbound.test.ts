// Outbound streams (protocol 2): the laptop opens connections that the sidecar dials from the pod.
// Real sidecar processes, real sockets on loopback: a raw TCP protocol through a LocalForward, HTTP
// through the OutboundHttpProxy (absolute-form and CONNECT) with the developer's header, the
// refusals, and versions 1 and 2 of clients and sidecars together.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import { SidecarProcess, freePort } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { openOutbound, openTunnel } from '../support/tunnels';
import { buildOlderSidecar, PROTOCOL_1_COMMIT, type OlderSidecar } from '../support/older-sidecar';
import { statusOf } from '../support/wait';
import { OutboundClient } from '../../src/core/outbound/outbound-client';
import { LocalForward } from '../../src/core/outbound/local-forward';
import { OutboundHttpProxy } from '../../src/core/outbound/outbound-http-proxy';
import { OutboundError } from '../../src/core/outbound/outbound-error';
import type { TunnelClient } from '../../src/core/tunnel/tunnel-client';
import { dialTcp } from '../support/tunnels';

/** A line protocol, not HTTP: answers `+PONG` to `PING`, `+<n>` bytes counted at the client's FIN. */
async function startLineServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    let count = 0;
    let text = '';
    s.on('data', (c: Buffer) => {
      count += c.length;
      text += c.toString('latin1');
      while (text.includes('\r\n')) {
        const line = text.slice(0, text.indexOf('\r\n'));
        text = text.slice(line.length + 2);
        if (line === 'PING') s.write('+PONG\r\n');
      }
    });
    s.on('end', () => s.end(`+${count}\r\n`)); // answers after the client's half-close
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Sends `bytes`, half-closes, and resolves with all the answer once the peer closed. */
async function exchange(port: number, bytes: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(socket, 'connect');
  let answer = '';
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (answer += c));
  const closed = once(socket, 'close');
  socket.end(bytes);
  await closed;
  return answer;
}

/** Opens a CONNECT tunnel through the proxy and sends `request` raw; resolves with the status line and what follows. */
async function viaConnect(proxyPort: number, target: string, request: string): Promise<{ status: number; rest: string }> {
  const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target, agent: false });
  req.end();
  const [res, socket] = (await once(req, 'connect')) as [http.IncomingMessage, net.Socket];
  if (res.statusCode !== 200) {
    socket.destroy();
    return { status: res.statusCode ?? 0, rest: '' };
  }
  let rest = '';
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (rest += c));
  const closed = once(socket, 'close');
  socket.write(request);
  await closed;
  return { status: 200, rest };
}

function headerValues(seen: { rawHeaders: string[] }, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < seen.rawHeaders.length; i += 2) if (seen.rawHeaders[i]!.toLowerCase() === name) out.push(seen.rawHeaders[i + 1]!);
  return out;
}

describe('outbound streams through a sidecar started with --outbound', () => {
  let app: NamedServer;
  let local: NamedServer;
  let upstream: NamedServer; // another Service, reached from the pod
  let lineServer: Awaited<ReturnType<typeof startLineServer>>;
  let sidecar: SidecarProcess;
  let tunnel: TunnelClient;
  let outbound: OutboundClient;
  let proxy: OutboundHttpProxy;
  let plainProxy: OutboundHttpProxy;

  before(async () => {
    app = await startNamedServer('app');
    local = await startNamedServer('ana-laptop');
    upstream = await startNamedServer('payments');
    lineServer = await startLineServer();
    sidecar = await SidecarProcess.start({ appPorts: [app.port], extraArgs: ['--outbound'] });
    tunnel = await openTunnel(sidecar, 'ana-4f2c', local.port); // a version-1 client, as it always was
    outbound = await openOutbound(sidecar, tunnel.lease);
    const open = (host: string, port: number) => outbound.open(host, port);
    proxy = new OutboundHttpProxy({ open, propagate: { header: 'x-intercept-id', value: 'ana-4f2c' } });
    plainProxy = new OutboundHttpProxy({ open });
    await proxy.listen();
    await plainProxy.listen();
  });

  after(async () => {
    await proxy.close();
    await plainProxy.close();
    await outbound.close();
    await tunnel.close();
    await sidecar.stop();
    await Promise.all([app.close(), local.close(), upstream.close(), lineServer.close()]);
  });

  it('lists outbound among its features', async () => {
    const status = await statusOf(sidecar.controlPort);
    assert.deepEqual([status.protocol, status.protocols, status.features], [2, [1, 2], ['outbound']]);
  });

  it('carries a raw TCP protocol through a local forward, half-close included, and logs the destination only', async () => {
    const forward = new LocalForward({ open: (h, p) => outbound.open(h, p), host: '127.0.0.1', port: lineServer.port });
    await forward.listen();
    try {
      const secret = 'PING\r\nAUTH hunter2-secret\r\n';
      assert.equal(await exchange(forward.port, secret), `+PONG\r\n+${secret.length}\r\n`);
      await sidecar.waitForLog((l) => l.msg === 'outbound connection' && l.destination === `127.0.0.1:${lineServer.port}` && l.developer === 'ana');
      assert.ok(!sidecar.rawOutput.includes('hunter2'), 'no payload in the log');
    } finally {
      await forward.close();
    }
  });

  it('forwards an absolute-form request in origin-form and adds the developer header when it is missing', async () => {
    const before = upstream.seen.length;
    const r = await get(proxy.port, `http://127.0.0.1:${upstream.port}/charge?id=7`, { 'x-other': 'kept' });
    assert.deepEqual([r.status, r.body], [200, 'payments GET /charge?id=7']);
    const seen = upstream.seen[before]!;
    assert.equal(seen.url, '/charge?id=7', 'origin-form');
    assert.deepEqual(headerValues(seen, 'x-intercept-id'), ['ana-4f2c']);
    assert.deepEqual(headerValues(seen, 'x-other'), ['kept']);
  });

  it('leaves the header the program propagated, and its baggage, as they are', async () => {
    const before = upstream.seen.length;
    await get(proxy.port, `http://127.0.0.1:${upstream.port}/a`, { 'x-intercept-id': 'bob-77' });
    await get(proxy.port, `http://127.0.0.1:${upstream.port}/b`, { baggage: 'x-intercept-id=ana-4f2c' });
    assert.deepEqual(headerValues(upstream.seen[before]!, 'x-intercept-id'), ['bob-77']);
    assert.deepEqual(headerValues(upstream.seen[before + 1]!, 'x-intercept-id'), []);
  });

  it('adds nothing when propagation is off', async () => {
    const before = upstream.seen.length;
    const r = await get(plainProxy.port, `http://127.0.0.1:${upstream.port}/c`);
    assert.equal(r.status, 200);
    assert.deepEqual(headerValues(upstream.seen[before]!, 'x-intercept-id'), []);
  });

  it('forwards a POST body through the proxy unchanged', async () => {
    const body = 'x'.repeat(100_000);
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: `http://127.0.0.1:${upstream.port}/upload`, agent: false });
    req.end(body);
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let text = '';
    for await (const c of res) text += (c as Buffer).toString();
    assert.equal((JSON.parse(text) as { length: number }).length, body.length);
  });

  it('passes CONNECT payloads through untouched: no header is added inside', async () => {
    const before = upstream.seen.length;
    const r = await viaConnect(proxy.port, `127.0.0.1:${upstream.port}`, 'GET /inside HTTP/1.1\r\nHost: payments\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200);
    assert.match(r.rest, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\npayments GET \/inside\r\n0\r\n\r\n$/);
    assert.equal(upstream.seen[before]!.url, '/inside');
    assert.deepEqual(headerValues(upstream.seen[before]!, 'x-intercept-id'), []);
  });

  it('says clearly when the destination refuses: the stream, the proxy and the sidecar log', async () => {
    const closedPort = await freePort();
    await assert.rejects(outbound.open('127.0.0.1', closedPort), (err: unknown) => {
      assert.ok(err instanceof OutboundError);
      assert.deepEqual([err.status, err.reason, err.errno], [502, 'connection-refused', 'ECONNREFUSED']);
      assert.match(err.message, /connection refused/);
      return true;
    });
    const viaHttp = await get(proxy.port, `http://127.0.0.1:${closedPort}/x`);
    assert.deepEqual([viaHttp.status, viaHttp.headers['x-intercept-error']], [502, 'connection-refused']);
    assert.equal((await viaConnect(proxy.port, `127.0.0.1:${closedPort}`, '')).status, 502);
    await sidecar.waitForLog((l) => l.msg === 'outbound connection failed' && l.destination === `127.0.0.1:${closedPort}` && l.reason === 'connection-refused');
    // The session is still good afterwards.
    assert.equal((await get(proxy.port, `http://127.0.0.1:${upstream.port}/after`)).status, 200);
  });

  it('names a DNS failure in the pod', async () => {
    await assert.rejects(outbound.open('no-such-host.invalid', 80), (err: unknown) => {
      assert.ok(err instanceof OutboundError);
      assert.deepEqual([err.status, err.reason], [502, 'dns-failure']);
      return true;
    });
  });

  it('resets the local client when the stream cannot be opened', async () => {
    const forward = new LocalForward({ open: (h, p) => outbound.open(h, p), host: '127.0.0.1', port: await freePort() });
    await forward.listen();
    try {
      const socket = net.connect({ host: '127.0.0.1', port: forward.port });
      const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
      assert.equal(err.code, 'ECONNRESET');
    } finally {
      await forward.close();
    }
  });

  it('refuses a lease that holds no claim on this sidecar', async () => {
    await assert.rejects(openOutbound(sidecar, 'not-a-lease-of-any-claim'), (err: unknown) => err instanceof OutboundError && err.reason === 'no-claim');
  });

  it('still routes claimed requests down the tunnel of a version-1 client', async () => {
    const r = await get(sidecar.port, '/x', { 'x-intercept-id': 'ana-4f2c' });
    assert.equal(r.headers['x-served-by'], 'ana-laptop');
  });
});

describe('outbound streams on a sidecar without --outbound', () => {
  it('refuses the outbound session with outbound-disabled and does not list the feature', async () => {
    const app = await startNamedServer('app');
    const local = await startNamedServer('cy-laptop');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    let tunnel: TunnelClient | undefined;
    try {
      tunnel = await openTunnel(sidecar, 'cy-1', local.port);
      assert.deepEqual((await statusOf(sidecar.controlPort)).features, []);
      await assert.rejects(openOutbound(sidecar, tunnel.lease), (err: unknown) => {
        assert.ok(err instanceof OutboundError);
        assert.deepEqual([err.status, err.reason, err.final], [403, 'outbound-disabled', true]);
        return true;
      });
    } finally {
      await tunnel?.close();
      await sidecar.stop();
      await Promise.all([app.close(), local.close()]);
    }
  });
});

describe('a version-2 client with a version-1 sidecar', () => {
  let older: OlderSidecar;
  before(async () => {
    older = await buildOlderSidecar(PROTOCOL_1_COMMIT);
  });
  after(() => older.remove());

  it('claims and routes as before, and learns that outbound is not supported', async () => {
    const app = await startNamedServer('app');
    const local = await startNamedServer('di-laptop');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port], bundle: older.bundle, extraArgs: [] });
    let tunnel: TunnelClient | undefined;
    try {
      const status = await statusOf(sidecar.controlPort);
      assert.deepEqual([status.protocol, status.features], [1, undefined], 'a version-1 sidecar');
      tunnel = await openTunnel(sidecar, 'di-1', local.port);
      assert.equal((await get(sidecar.port, '/y', { 'x-intercept-id': 'di-1' })).headers['x-served-by'], 'di-laptop');
      const client = new OutboundClient({ dial: dialTcp(sidecar.controlPort), lease: tunnel.lease });
      await assert.rejects(client.start(), (err: unknown) => {
        assert.ok(err instanceof OutboundError);
        assert.deepEqual([err.reason, err.final], ['unsupported', true]);
        return true;
      });
    } finally {
      await tunnel?.close();
      await sidecar.stop();
      await Promise.all([app.close(), local.close()]);
    }
  });
});
