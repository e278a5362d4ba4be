// How a connection starts: a client that sends nothing gets the head timeout's 408; an app that
// speaks first (a banner) is passed through byte for byte; a connection a pool opened early and
// used later still has its claimed request routed, and holds no app connection while it is quiet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { SidecarProcess } from '../support/sidecar-process';
import { startNamedServer, type NamedServer } from '../support/servers';
import { openTunnel } from '../support/tunnels';
import { waitFor } from '../support/wait';

/** Collects what a raw client connection receives until it closes. */
function collect(socket: net.Socket): { text: () => string; closed: Promise<void> } {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  return { text: () => Buffer.concat(chunks).toString('latin1'), closed: new Promise((r) => socket.once('close', () => r())) };
}

describe('connections that start quietly', () => {
  let app: NamedServer;
  let ana: NamedServer;
  let sidecar: SidecarProcess;
  let appConnections = 0;

  before(async () => {
    app = await startNamedServer('app');
    app.server.on('connection', () => appConnections++);
    ana = await startNamedServer('ana-laptop');
    sidecar = await SidecarProcess.start({ appPorts: [app.port], extraArgs: ['--header-timeout', '0.5'] });
  });

  after(async () => {
    await sidecar.stop();
    await Promise.all([app.close(), ana.close()]);
  });

  it('answers a connection that never sends a byte with 408 at the head timeout, not at the idle timeout', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
    const got = collect(socket);
    await got.closed; // the idle timeout is 120 s: the test would time out long before
    assert.match(got.text(), /^HTTP\/1\.1 408 /);
  });

  it('lets go of the app connection it opened for a client that stays quiet, and serves its first request later', async () => {
    const own = await SidecarProcess.start({ appPorts: [app.port] }); // default head timeout: 30 s
    try {
      const appSide = new Promise<net.Socket>((resolve) => app.server.once('connection', resolve));
      const socket = net.connect({ host: '127.0.0.1', port: own.port });
      const got = collect(socket);
      const early = await appSide;
      let earlyClosed = false;
      early.once('close', () => (earlyClosed = true));
      await waitFor(() => earlyClosed, 'the early app connection to close (the server-first window and one sweep)');
      assert.equal(socket.destroyed, false, 'the quiet client keeps its connection');
      socket.write('GET /after-quiet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await got.closed;
      assert.match(got.text(), /\r\n\r\n(?:[0-9a-f]+\r\n)?app GET \/after-quiet/);
    } finally {
      await own.stop();
    }
  });

  it('routes a claimed request on a connection opened early and used later', async () => {
    const tunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port);
    try {
      const before = appConnections;
      const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
      const got = collect(socket);
      await once(socket, 'connect');
      await waitFor(() => appConnections > before, 'the sidecar to open its app connection for the new client');
      socket.write('GET /late HTTP/1.1\r\nHost: x\r\nx-intercept-id: ana-4f2c\r\nConnection: close\r\n\r\n');
      await got.closed;
      assert.match(got.text(), /\r\n\r\n(?:[0-9a-f]+\r\n)?ana-laptop GET \/late/);
      assert.ok(!app.seen.some((s) => s.url === '/late'), 'the app never saw the claimed request');
    } finally {
      await tunnel.close();
    }
  });
});

describe('an app that speaks first', () => {
  let banner: net.Server;
  let sidecar: SidecarProcess;

  before(async () => {
    // A server-first line protocol: a greeting on connect, then each line echoed back.
    banner = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('220 ready\r\n');
      socket.on('data', (c: Buffer) => socket.write(`echo ${c.toString('latin1')}`));
    });
    banner.listen(0, '127.0.0.1');
    await once(banner, 'listening');
    sidecar = await SidecarProcess.start({ appPorts: [(banner.address() as net.AddressInfo).port], extraArgs: ['--header-timeout', '0.5'] });
  });

  after(async () => {
    await sidecar.stop();
    banner.close();
  });

  it('gets its greeting to the client, and the conversation passes byte for byte', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
    const got = collect(socket);
    try {
      await waitFor(() => got.text() === '220 ready\r\n', 'the greeting');
      socket.write('HELO client\r\n');
      await waitFor(() => got.text() === '220 ready\r\necho HELO client\r\n', 'the echo');
      // Once passed through, the connection is bytes: a request-shaped line is not parsed or routed.
      socket.write('GET / HTTP/1.1\r\n\r\n');
      await waitFor(() => got.text().endsWith('echo GET / HTTP/1.1\r\n\r\n'), 'the request-shaped line to pass through as bytes');
    } finally {
      socket.destroy();
    }
  });
});
