// Issue test 1: without the header, what comes back through the sidecar equals what the app sends
// directly — status, headers (every set-cookie, in order and case), body and trailers — and what the
// app receives equals what the client sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';

/** Pseudo-random but reproducible bytes, generated as they are sent. */
function* body(totalBytes: number, chunkBytes = 256 * 1024): Generator<Buffer> {
  let seed = 12345;
  for (let sent = 0; sent < totalBytes; sent += chunkBytes) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, totalBytes - sent));
    for (let i = 0; i < chunk.length; i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      chunk.writeUInt32LE(seed, i);
    }
    yield chunk;
  }
}

/** Sends raw bytes on a new connection and collects everything until the server closes. */
async function rawExchange(port: number, request: string | Buffer): Promise<Buffer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.end(request);
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

describe('traffic without a claim passes unchanged', () => {
  let app: NamedServer;
  let sidecar: SidecarProcess;
  let releaseSse: (() => void) | null = null;

  before(async () => {
    app = await startNamedServer('app', (req, res) => {
      res.sendDate = false; // so that two answers to the same request are byte-identical
      if (req.url === '/cookies') {
        res.setHeader('Set-Cookie', ['session=abc; HttpOnly', 'theme=dark; Path=/', 'lang=en']);
        res.setHeader('X-Mixed-Case', 'Value');
        res.writeHead(201, 'Made It');
        res.end('created');
        return true;
      }
      if (req.url?.startsWith('/status/')) {
        res.writeHead(Number(req.url.slice('/status/'.length)), { etag: '"v1"' });
        res.end();
        return true;
      }
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        for (let i = 0; i < 20; i++) res.write(`part ${i}\n`);
        res.addTrailers({ 'x-checksum': 'c0ffee' });
        res.end();
        return true;
      }
      if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: first\n\n');
        releaseSse = () => res.end('data: second\n\n');
        return true;
      }
      return false;
    });
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
  });

  after(async () => {
    await sidecar.stop();
    await app.close();
  });

  it('returns the byte-identical response for GET with several set-cookie headers and a custom reason', async () => {
    const request = 'GET /cookies HTTP/1.1\r\nHost: svc\r\nCookie: a=1\r\nConnection: close\r\n\r\n';
    const direct = await rawExchange(app.port, request);
    const via = await rawExchange(sidecar.port, request);
    assert.ok(direct.toString().startsWith('HTTP/1.1 201 Made It\r\n'));
    assert.equal(direct.toString().match(/Set-Cookie/g)?.length, 3);
    assert.deepEqual(via, direct);
  });

  it('delivers the request head to the app exactly as the client sent it', async () => {
    const request = 'GET /cookies HTTP/1.1\r\nHost: svc\r\nX-Weird-CASE:  spaced  \r\nAccept: */*\r\nAccept: text/plain\r\nConnection: close\r\n\r\n';
    await rawExchange(app.port, request);
    const direct = app.seen.at(-1)!;
    await rawExchange(sidecar.port, request);
    const via = app.seen.at(-1)!;
    assert.deepEqual(via, direct);
  });

  it('returns chunked responses with trailers byte for byte', async () => {
    const request = 'GET /chunked HTTP/1.1\r\nHost: svc\r\nTE: trailers\r\nConnection: close\r\n\r\n';
    const direct = await rawExchange(app.port, request);
    const via = await rawExchange(sidecar.port, request);
    assert.match(direct.toString(), /transfer-encoding: chunked/i);
    assert.match(direct.toString(), /x-checksum: c0ffee/);
    assert.deepEqual(via, direct);
  });

  it('streams a 100 MB POST body to the app unchanged', async () => {
    const size = 100 * 1024 * 1024;
    const expected = createHash('sha256');
    for (const c of body(size)) expected.update(c);
    const digest = expected.digest('hex');
    for (const [port, chunked] of [[sidecar.port, false], [sidecar.port, true], [app.port, false]] as const) {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/upload',
        headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': size },
      });
      for (const c of body(size)) if (!req.write(c)) await once(req, 'drain');
      req.end();
      const [res] = (await once(req, 'response')) as [http.IncomingMessage];
      let text = '';
      for await (const c of res) text += String(c);
      const answer = JSON.parse(text) as { length: number; sha256: string; servedBy: string };
      assert.equal(res.statusCode, 200);
      assert.deepEqual(answer, { servedBy: 'app', length: size, sha256: digest }, `port ${port}, chunked ${chunked}`);
    }
  });

  it('answers HEAD, 204 and 304 without a body and keeps the connection usable', async () => {
    const request =
      'HEAD /cookies HTTP/1.1\r\nHost: svc\r\n\r\n' +
      'GET /status/204 HTTP/1.1\r\nHost: svc\r\n\r\n' +
      'GET /status/304 HTTP/1.1\r\nHost: svc\r\n\r\n' +
      'GET /cookies HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n';
    const direct = await rawExchange(app.port, request);
    const via = await rawExchange(sidecar.port, request);
    assert.equal(direct.toString().match(/^HTTP\/1\.1 /gm)?.length, 4);
    assert.deepEqual(via, direct);
  });

  it('passes Expect: 100-continue through: the client sends its body after the app says continue', async () => {
    const req = http.request({ host: '127.0.0.1', port: sidecar.port, method: 'POST', path: '/upload', agent: false, headers: { expect: '100-continue', 'content-length': 5 } });
    await once(req, 'continue');
    req.end('hello');
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let text = '';
    for await (const c of res) text += String(c);
    assert.equal((JSON.parse(text) as { length: number }).length, 5);
  });

  it('serves HTTP/1.0 requests and closes as the app does', async () => {
    const request = 'GET /cookies HTTP/1.0\r\n\r\n';
    const direct = await rawExchange(app.port, request);
    const via = await rawExchange(sidecar.port, request);
    assert.match(direct.toString(), /^HTTP\/1\.1 201 Made It/);
    assert.deepEqual(via, direct);
  });

  it('streams server-sent events as they are sent, before the response ends', async () => {
    const req = http.request({ host: '127.0.0.1', port: sidecar.port, path: '/sse', agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    assert.equal(res.headers['content-type'], 'text/event-stream');
    res.setEncoding('utf8');
    const [first] = (await once(res, 'data')) as [string];
    assert.equal(first, 'data: first\n\n'); // arrived while the app still holds the response open
    assert.ok(releaseSse, 'the app is holding the stream');
    releaseSse();
    let rest = '';
    for await (const c of res) rest += c as string;
    assert.equal(rest, 'data: second\n\n');
  });

  it('carries a WebSocket echo, text and binary, unchanged', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sidecar.port}/ws`);
    await once(ws, 'open');
    ws.send('ping');
    const [text] = (await once(ws, 'message')) as [Buffer];
    assert.equal(String(text), 'app: ping');
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    ws.send(bytes);
    const [echo] = (await once(ws, 'message')) as [Buffer];
    assert.deepEqual(Buffer.from(echo), bytes);
    ws.close();
    await once(ws, 'close');
  });

  it('reaches an app that listens only on the pod IP when --app-host names it', async () => {
    // 127.0.0.2 stands for the pod's own IP: still loopback, but not 127.0.0.1.
    const podIpOnly = http.createServer((req, res) => res.end(`pod-ip app ${req.url}`));
    podIpOnly.listen(0, '127.0.0.2');
    await once(podIpOnly, 'listening');
    const port = (podIpOnly.address() as net.AddressInfo).port;
    const other = await SidecarProcess.start({ appPorts: [port], extraArgs: ['--app-host', '127.0.0.2'] });
    try {
      const r = await get(other.port, '/x');
      assert.equal(r.body, 'pod-ip app /x');
    } finally {
      await other.stop();
      podIpOnly.close();
    }
  });

  it('passes a connection that is not HTTP/1.x to the app byte for byte', async () => {
    // HTTP/2 prior knowledge: the app (HTTP/1 only) answers the preface as it would without the sidecar.
    const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
    const direct = await rawExchange(app.port, preface);
    const via = await rawExchange(sidecar.port, preface);
    assert.deepEqual(via, direct);
    const echo = net.createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const raw = await SidecarProcess.start({ appPorts: [(echo.address() as net.AddressInfo).port] });
    try {
      const tls = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 255]);
      const got = await rawExchange(raw.port, tls);
      assert.deepEqual(got, tls);
    } finally {
      await raw.stop();
      echo.close();
    }
  });
});
