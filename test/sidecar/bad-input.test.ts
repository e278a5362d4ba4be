// Issue tests 8 and 9, and the logging rule: bad input from clients and from tunnels gets a clear
// answer or a closed connection, never a crash, and the next request works; the control port
// listens on loopback only; secrets never reach the log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { openTunnel } from '../support/tunnels';
import { TunnelError } from '../../src/core/tunnel/errors';
import { HandshakeHeader, PROTOCOL_VERSION, TUNNEL_PATH } from '../../src/protocol/constants';
import { handshake, raw } from '../support/raw-http';

const goodClaim = {
  [HandshakeHeader.protocol]: String(PROTOCOL_VERSION),
  [HandshakeHeader.claimHeader]: 'x-intercept-id',
  [HandshakeHeader.claimValue]: 'eve-1',
  [HandshakeHeader.developer]: 'eve',
  [HandshakeHeader.lease]: 'lease-lease-lease-1',
};

describe('bad input', () => {
  let app: NamedServer;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startNamedServer('app');
    sidecar = await SidecarProcess.start({ appPorts: [app.port], extraArgs: ['--header-timeout', '0.5'] });
  });

  after(async () => {
    await sidecar.stop();
    await app.close();
  });

  async function stillServes(): Promise<void> {
    assert.ok(sidecar.alive, 'the sidecar process is alive');
    assert.equal((await get(sidecar.port, '/next')).body, 'app GET /next');
  }

  it('answers a malformed request line with 400', async () => {
    const answer = await raw(sidecar.port, 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /malformed request line/);
    await stillServes();
  });

  it('answers garbage after a good request on the same connection with 400', async () => {
    const answer = await raw(sidecar.port, 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n', 'BLAH\x01\x02 / HTTP/1.1\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*app GET \/ok[\s\S]*HTTP\/1\.1 400 Bad Request/);
    await stillServes();
  });

  it('refuses request smuggling shapes with 400', async () => {
    for (const head of [
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n',
      'GET / HTTP/1.1\nHost: x\r\n\r\n',
    ]) {
      assert.match(await raw(sidecar.port, head), /^HTTP\/1\.1 400 /, JSON.stringify(head));
    }
    await stillServes();
  });

  it('answers a 64 KB header with 431', async () => {
    const answer = await raw(sidecar.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    await stillServes();
  });

  it('answers a client too slow to send its head with 408 and closes', async () => {
    const answer = await raw(sidecar.port, 'GET / HTTP/1.1\r\nHost: x\r\n'); // never finishes the head
    assert.match(answer, /^HTTP\/1\.1 408 /);
    await stillServes();
  });

  it('survives random bytes and mangled requests on the listen port', async () => {
    const valid = Buffer.from('POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 150; i++) {
      const bytes = Buffer.from(valid);
      for (let k = 0; k < 1 + rand(4); k++) bytes[rand(bytes.length)] = rand(256); // flip a few bytes
      const cut = i % 3 === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes; // sometimes stop short
      const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
      socket.on('error', () => undefined);
      socket.resume();
      socket.end(i % 5 === 0 ? randomBytes(1 + rand(300)) : cut);
      await once(socket, 'close');
    }
    await stillServes();
  });

  it('refuses a claim value with CR or LF, from the client library and on the wire', async () => {
    await assert.rejects(openTunnel(sidecar, 'ana\r\nx-evil: 1', app.port), (err: unknown) => {
      assert.ok(err instanceof TunnelError);
      assert.equal(err.failure.kind, 'bad-claim');
      return true;
    });
    // On the wire a lone CR inside a value is not valid HTTP: the control port answers 400.
    const answer = await raw(sidecar.controlPort, handshake({ ...goodClaim, [HandshakeHeader.claimValue]: 'eve\r1' }));
    assert.match(answer, /^HTTP\/1\.1 400 /);
    // A value with a space is valid HTTP but not a valid claim: 400 that says which field.
    const spaced = await raw(sidecar.controlPort, handshake({ ...goodClaim, [HandshakeHeader.claimValue]: 'eve 1' }));
    assert.match(spaced, /^HTTP\/1\.1 400 /);
    assert.match(spaced, /"field":"value"/);
    await stillServes();
  });

  it('answers a protocol version mismatch with 426', async () => {
    const answer = await raw(sidecar.controlPort, handshake({ ...goodClaim, [HandshakeHeader.protocol]: '99' }));
    assert.match(answer, /^HTTP\/1\.1 426 /);
    assert.match(answer, /speaks Intercept tunnel protocol 1 and 2, the client sent 99/);
    assert.match(answer, /"supported":\[1,2\]/);
  });

  it('survives random bytes on the control port', async () => {
    for (let i = 0; i < 20; i++) {
      await raw(sidecar.controlPort, randomBytes(64 + i * 97));
    }
    await stillServes();
    const status = JSON.parse((await get(sidecar.controlPort, '/v1/status')).body) as { claims: unknown[] };
    assert.deepEqual(status.claims, []);
  });

  it('survives a tunnel that sends garbage after the handshake', async () => {
    // Valid WebSocket, invalid HTTP/2 inside it.
    const ws = new WebSocket(`ws://127.0.0.1:${sidecar.controlPort}${TUNNEL_PATH}`, { headers: goodClaim, perMessageDeflate: false });
    await once(ws, 'open');
    ws.on('error', () => undefined);
    ws.send(randomBytes(4096));
    ws.send(Buffer.from('definitely not HTTP/2'));
    await sidecar.waitForLog((l) => l.msg === 'tunnel dropped, grace period started' && l.value === 'eve-1');
    ws.terminate();
    // Invalid WebSocket framing right after the 101.
    const socket = net.connect({ host: '127.0.0.1', port: sidecar.controlPort });
    socket.on('error', () => undefined);
    socket.write(handshake({ ...goodClaim, [HandshakeHeader.claimValue]: 'eve-2', [HandshakeHeader.lease]: 'lease-lease-lease-2' }));
    const [first] = (await once(socket, 'data')) as [Buffer];
    assert.match(first.toString('latin1'), /^HTTP\/1\.1 101 /);
    socket.write(randomBytes(2048));
    await once(socket, 'close');
    await stillServes();
  });
});

describe('listening sockets', () => {
  it('binds the control port to 127.0.0.1 only, even when the listen port binds to all addresses', async () => {
    const app = await startNamedServer('app');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port], extraArgs: ['--bind-address', '0.0.0.0'] });
    try {
      const listening = listeningSockets();
      assert.deepEqual(listening.get(sidecar.controlPort), ['127.0.0.1']);
      assert.deepEqual(listening.get(sidecar.port), ['0.0.0.0']);
    } finally {
      await sidecar.stop();
      await app.close();
    }
  });
});

/** Port → local addresses of LISTEN sockets, from the kernel's socket tables. */
function listeningSockets(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A') continue; // TCP_LISTEN
      const [addrHex, portHex] = cols[1]!.split(':') as [string, string];
      const port = parseInt(portHex, 16);
      const address =
        addrHex.length === 8
          ? [3, 2, 1, 0].map((i) => parseInt(addrHex.slice(i * 2, i * 2 + 2), 16)).join('.')
          : addrHex === '0'.repeat(32) ? '::' : `ipv6:${addrHex}`;
      out.set(port, [...(out.get(port) ?? []), address]);
    }
  }
  return out;
}

describe('logging', () => {
  it('never logs authorization, cookies, bodies, userinfo, path parameters or queries, even at debug level', async () => {
    const app = await startNamedServer('app');
    const ana = await startNamedServer('ana-laptop');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port], logLevel: 'debug' });
    const tunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port);
    try {
      for (const claim of [{}, { 'x-intercept-id': 'ana-4f2c' }]) {
        const secretHeaders = { authorization: 'Bearer tok-SECRET-1', cookie: 'sid=SECRET-2', ...claim };
        await get(sidecar.port, '/p?key=SECRET-3', secretHeaders);
        for (const target of ['http://user:SECRET-5@host.example/abs', '/j;jsessionid=SECRET-6', '/e%3Ftoken=SECRET-7', '/f%3ftoken=SECRET-8']) {
          const answer = await get(sidecar.port, target, claim);
          assert.equal(answer.status, 200, target);
        }
        const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
        socket.end(`POST /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 13\r\n${Object.entries(claim).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\nbody-SECRET-4`);
        socket.resume();
        await once(socket, 'close');
      }
      await sidecar.waitForLog((l) => l.msg === 'request' && l.path === '/b' && l.route === 'tunnel');
      assert.ok(sidecar.logs.some((l) => l.msg === 'request' && l.route === 'app'), 'requests are logged at debug level');
      for (const route of ['app', 'tunnel']) {
        const paths = sidecar.logs.filter((l) => l.msg === 'request' && l.route === route).map((l) => l.path);
        assert.deepEqual(paths, ['/p', '/abs', '/j', '/e', '/f', '/b'], `${route} paths`);
      }
      assert.doesNotMatch(sidecar.rawOutput, /SECRET/);
    } finally {
      await tunnel.close();
      await sidecar.stop();
      await Promise.all([app.close(), ana.close()]);
    }
  });
});
