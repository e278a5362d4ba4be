// How tunnels and their streams live and end: streams end with END_STREAM so that a tunnel lasts any
// number of connections; a broken HTTP/2 session is a drop; nothing waits forever on a tunnel; the
// same lease takes a claim over at once; a client that goes away is passed on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { CuttableRelay, dialTcp, openTunnel } from '../support/tunnels';
import { waitFor, waitForClaims } from '../support/wait';
import { TunnelClient, type TunnelState } from '../../src/core/tunnel/tunnel-client';
import type { TunnelError } from '../../src/core/tunnel/errors';
import { serveTunnel } from '../../src/core/tunnel/local-bridge';
import { webSocketStream } from '../../src/protocol/websocket-stream';
import { HandshakeHeader, PROTOCOL_VERSION, TUNNEL_PATH } from '../../src/protocol/constants';

const GRACE_SECONDS = 2;

/**
 * A tunnel written from the protocol page: a bare WebSocket whose HTTP/2 session the test controls.
 * `serve` runs as the WebSocket opens, before the sidecar's first message can arrive.
 */
async function rawTunnel(controlPort: number, value: string, serve?: (stream: Duplex) => void): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${controlPort}${TUNNEL_PATH}`, {
    perMessageDeflate: false,
    headers: {
      [HandshakeHeader.protocol]: String(PROTOCOL_VERSION),
      [HandshakeHeader.claimHeader]: 'x-intercept-id',
      [HandshakeHeader.claimValue]: value,
      [HandshakeHeader.developer]: 'zed',
      [HandshakeHeader.lease]: randomBytes(12).toString('hex'),
    },
  });
  ws.on('error', () => undefined);
  ws.once('open', () => {
    if (serve === undefined) return;
    const stream = webSocketStream(ws);
    stream.on('error', () => undefined);
    serve(stream);
  });
  await once(ws, 'open');
  return ws;
}

function closed(ws: WebSocket): Promise<void> {
  return ws.readyState === WebSocket.CLOSED ? Promise.resolve() : once(ws, 'close').then(() => undefined);
}

/** Raw bytes to the listen port; resolves with what came back and whether the connection was reset. */
async function exchange(port: number, request: string, onData?: () => void): Promise<{ text: string; reset: boolean }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let reset = false;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    onData?.();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => (reset = err.code === 'ECONNRESET'));
  socket.write(request);
  await new Promise((resolve) => socket.once('close', resolve));
  return { text: Buffer.concat(chunks).toString('latin1'), reset };
}

describe('tunnel streams end cleanly', () => {
  let ana: NamedServer;
  let app: NamedServer;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startNamedServer('app');
    ana = await startNamedServer('ana-laptop');
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
  });

  after(async () => {
    await sidecar.stop();
    await Promise.all([app.close(), ana.close()]);
  });

  it('carries 10,000 claimed requests on fresh connections through one tunnel: no 502, no reconnect', async () => {
    const tunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port);
    const states: TunnelState[] = [];
    tunnel.on('state', (s) => states.push(s));
    const wrong: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 10_000) {
        const i = next++;
        const r = await get(sidecar.port, `/n/${i}`, { 'x-intercept-id': 'ana-4f2c', connection: 'close' });
        if (r.status !== 200 || r.body !== `ana-laptop GET /n/${i}`) wrong.push(`${i}: ${r.status} ${r.body.slice(0, 120)}`);
      }
    };
    try {
      await Promise.all(Array.from({ length: 16 }, worker));
      assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} requests failed`);
      assert.deepEqual(states, [], 'the tunnel never dropped or reconnected');
      assert.equal(tunnel.state, 'connected');
    } finally {
      await tunnel.close();
    }
  });
});

describe('a broken tunnel is a drop, and nothing waits on it forever', () => {
  let app: NamedServer;
  let ana: NamedServer;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startNamedServer('app');
    ana = await startNamedServer('ana-laptop');
    sidecar = await SidecarProcess.start({ appPorts: [app.port], graceSeconds: GRACE_SECONDS, extraArgs: ['--tunnel-timeout', '1'] });
  });

  after(async () => {
    await sidecar.stop();
    await Promise.all([app.close(), ana.close()]);
  });

  /** A bare WebSocket that serves HTTP/2 as the extension does, so only what the test sends next breaks it. */
  async function workingRawTunnel(value: string): Promise<WebSocket> {
    const ws = await rawTunnel(sidecar.controlPort, value, (stream) =>
      serveTunnel(stream, { host: '127.0.0.1', port: ana.port }, { onRequest: () => undefined, onLocalError: () => undefined }),
    );
    await waitFor(async () => (await get(sidecar.port, '/up', { 'x-intercept-id': value })).body === 'ana-laptop GET /up', 'the raw tunnel to serve');
    return ws;
  }

  for (const [what, breakIt] of [
    ['garbage bytes in the HTTP/2 session', (ws: WebSocket) => ws.send(Buffer.from('this is not HTTP/2 at all, not even a frame'))],
    ['a text WebSocket message', (ws: WebSocket) => ws.send('hello')],
  ] as const) {
    it(`ends the tunnel on ${what}: the claim enters its grace period and its requests get an answer`, async () => {
      const value = `broken-${what.length}`;
      const ws = await workingRawTunnel(value);
      breakIt(ws);
      await closed(ws);
      await waitForClaims(sidecar.controlPort, (claims) => claims.some((c) => c.value === value && c.state === 'grace'));
      const r = await get(sidecar.port, '/after', { 'x-intercept-id': value });
      assert.equal(r.status, 503);
      assert.match(r.body, /developer "zed"/);
      assert.equal((await get(sidecar.port, '/plain')).body, 'app GET /plain');
    });
  }

  it('ends a WebSocket that never starts HTTP/2; a request it held is answered, not left waiting', async () => {
    const ws = await rawTunnel(sidecar.controlPort, 'silent-1');
    const pending = get(sidecar.port, '/held', { 'x-intercept-id': 'silent-1' });
    await closed(ws);
    const r = await pending;
    assert.equal(r.status, 503);
    assert.match(r.body, /developer "zed"/);
  });

  it('answers 502 when the tunnel never answers a CONNECT, and the tunnel stays usable', async () => {
    const server = http2.createServer();
    let streams = 0;
    server.on('stream', (s) => {
      streams++;
      s.on('error', () => undefined); // never answered
    });
    const ws = await rawTunnel(sidecar.controlPort, 'mute-1', (stream) => server.emit('connection', stream));
    try {
      const r = await get(sidecar.port, '/mute', { 'x-intercept-id': 'mute-1' });
      assert.equal(r.status, 502, sidecar.rawOutput);
      assert.match(r.body, /did not answer within 1 s/);
      assert.equal(streams, 1);
      assert.equal(ws.readyState, WebSocket.OPEN, `one unanswered stream does not end the tunnel: ${sidecar.rawOutput}`);
    } finally {
      ws.terminate();
    }
  });
});

describe('the same lease takes its claim over at once', () => {
  let app: NamedServer;
  let oldLaptop: NamedServer;
  let newLaptop: NamedServer;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startNamedServer('app');
    oldLaptop = await startNamedServer('old-network');
    newLaptop = await startNamedServer('new-network');
    sidecar = await SidecarProcess.start({ appPorts: [app.port], graceSeconds: GRACE_SECONDS });
  });

  after(async () => {
    await sidecar.stop();
    await Promise.all([app.close(), oldLaptop.close(), newLaptop.close()]);
  });

  it('grants a reconnect while the old tunnel still looks connected, and moves its waiting request over', async () => {
    const relay = await new CuttableRelay(sidecar.controlPort).listen();
    const lease = randomBytes(16).toString('hex');
    const before = await openTunnel(sidecar, 'ana-4f2c', oldLaptop.port, { dial: dialTcp(relay.port), lease });
    let after: TunnelClient | undefined;
    try {
      assert.equal((await get(sidecar.port, '/a', { 'x-intercept-id': 'ana-4f2c' })).body, 'old-network GET /a');
      relay.freeze(); // the laptop changed networks: neither end has noticed yet
      const waiting = get(sidecar.port, '/moved', { 'x-intercept-id': 'ana-4f2c' });
      await waitFor(() => relay.frozenBytesFromTarget > 0, 'the sidecar to open a stream on the old tunnel');
      after = await openTunnel(sidecar, 'ana-4f2c', newLaptop.port, { lease });
      const r = await waiting;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'new-network GET /moved');
      assert.equal((await get(sidecar.port, '/b', { 'x-intercept-id': 'ana-4f2c' })).body, 'new-network GET /b');
      await waitForClaims(sidecar.controlPort, (claims) => claims.filter((c) => c.value === 'ana-4f2c').length === 1 && claims[0]!.state === 'connected');
    } finally {
      await after?.close();
      await before.close();
      await relay.close();
    }
  });

  it('tells the replaced client, which stops instead of taking the claim back', async () => {
    const lease = randomBytes(16).toString('hex');
    const first = await openTunnel(sidecar, 'bo-91aa', oldLaptop.port, { lease });
    const failed = once(first, 'failed') as Promise<[TunnelError]>;
    const second = await openTunnel(sidecar, 'bo-91aa', newLaptop.port, { lease });
    try {
      const [err] = await failed;
      assert.equal(err.failure.kind, 'replaced');
      assert.equal(first.state, 'closed');
      assert.equal(second.state, 'connected');
      assert.equal((await get(sidecar.port, '/c', { 'x-intercept-id': 'bo-91aa' })).body, 'new-network GET /c');
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('still refuses the same claim to another lease', async () => {
    const first = await openTunnel(sidecar, 'cy-1', oldLaptop.port);
    try {
      await assert.rejects(openTunnel(sidecar, 'cy-1', newLaptop.port, { developer: 'dee' }), /already intercepted by cy/);
    } finally {
      await first.close();
    }
  });
});

describe('a client that goes away', () => {
  let app: NamedServer;
  let ana: NamedServer;
  let sidecar: SidecarProcess;
  const seenClose: string[] = [];
  const held: Array<() => void> = [];

  before(async () => {
    const holding = (name: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean => {
      if (req.url !== '/hold') return false;
      res.on('close', () => {
        if (!res.writableFinished) seenClose.push(name);
      });
      held.push(() => res.end('late'));
      return true;
    };
    app = await startNamedServer('app', holding('app'));
    ana = await startNamedServer('ana-laptop', holding('ana-laptop'));
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
  });

  after(async () => {
    for (const release of held) release();
    await sidecar.stop();
    await Promise.all([app.close(), ana.close()]);
  });

  for (const [where, headers] of [
    ['ana-laptop', 'x-intercept-id: ana-4f2c\r\n'],
    ['app', ''],
  ] as const) {
    it(`is passed on to ${where === 'app' ? 'the app' : 'the developer\'s program'} before any response byte`, async () => {
      const tunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port);
      try {
        const heldBefore = held.length;
        const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
        socket.on('error', () => undefined);
        socket.write(`GET /hold HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
        await waitFor(() => held.length > heldBefore, `the request to reach ${where}`);
        socket.destroy();
        await waitFor(() => seenClose.includes(where), `${where} to see the client go away`);
      } finally {
        await tunnel.close();
      }
    });
  }
});

describe('a response cut short is never passed on as whole', () => {
  let app: net.Server;
  let laptop: net.Server;
  let sidecar: SidecarProcess;
  let relay: CuttableRelay;
  let appPort = 0;
  let laptopPort = 0;

  // Each path names how the response is framed; the server sends part of it and then dies.
  const PARTIAL: Record<string, string> = {
    '/length': 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial',
    '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\npartial\r\n',
    '/close': 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial',
    // After a protocol switch the connection is bytes; the server's reset must still reach the client.
    '/upgrade': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: chat\r\nConnection: Upgrade\r\n\r\npartial',
  };
  const requestFor = (path: string, extra = ''): string =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\n${path === '/upgrade' ? 'Upgrade: chat\r\nConnection: Upgrade\r\n' : ''}${extra}\r\n`;

  /** The app's connection whose response is under way, for the test to end once the client has its first bytes. */
  let appSide: net.Socket | undefined;

  /** A server that answers part of a response and holds the connection open. */
  function partial(): net.Server {
    return net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (chunk: Buffer) => {
        const path = /^GET (\S+)/.exec(chunk.toString('latin1'))?.[1] ?? '';
        const partial = PARTIAL[path];
        if (partial === undefined) {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          return;
        }
        appSide = socket;
        socket.write(partial);
      });
    });
  }

  /** The app dies: FIN cuts a framed body short; a close-delimited one, or raw bytes, can only be told cut by a reset. */
  function appDies(path: string): void {
    if (path === '/close' || path === '/upgrade') appSide?.resetAndDestroy();
    else appSide?.end();
  }

  before(async () => {
    app = partial();
    laptop = partial();
    for (const s of [app, laptop]) s.listen(0, '127.0.0.1');
    await Promise.all([once(app, 'listening'), once(laptop, 'listening')]);
    appPort = (app.address() as net.AddressInfo).port;
    laptopPort = (laptop.address() as net.AddressInfo).port;
    sidecar = await SidecarProcess.start({ appPorts: [appPort] });
    relay = await new CuttableRelay(sidecar.controlPort).listen();
  });

  after(async () => {
    await relay.close();
    await sidecar.stop();
    app.close();
    laptop.close();
  });

  for (const path of Object.keys(PARTIAL)) {
    it(`resets the client when the app dies in a ${path.slice(1)} response`, async () => {
      const r = await exchange(sidecar.port, requestFor(path), () => appDies(path));
      assert.match(r.text, /partial/);
      assert.ok(r.reset, `the client saw a reset, not a clean end: ${JSON.stringify(r.text)}`);
    });

    it(`resets the client when the tunnel drops during a ${path.slice(1)} response`, async () => {
      const value = `cut${path.replace('/', '-')}`; // each drop leaves its claim in the grace period
      const tunnel = await openTunnel(sidecar, value, laptopPort, { dial: dialTcp(relay.port) });
      try {
        // The response started; then the laptop's network goes.
        const r = await exchange(sidecar.port, requestFor(path, `x-intercept-id: ${value}\r\n`), () => relay.cut());
        assert.match(r.text, /partial/);
        assert.ok(r.reset, `the client saw a reset, not a clean end: ${JSON.stringify(r.text)}`);
      } finally {
        await tunnel.close();
      }
    });
  }

  it('still ends a whole close-delimited response cleanly', async () => {
    const whole = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it'));
    });
    whole.listen(0, '127.0.0.1');
    await once(whole, 'listening');
    const own = await SidecarProcess.start({ appPorts: [(whole.address() as net.AddressInfo).port] });
    try {
      const r = await exchange(own.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(r.text, /\r\n\r\nall of it$/);
      assert.equal(r.reset, false);
    } finally {
      await own.stop();
      whole.close();
    }
  });
});
