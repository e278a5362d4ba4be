// Which connections the sidecar parses as HTTP/1 and which it passes through raw. A request that
// carries a claim must never reach the app unparsed: every shape an HTTP server could take for a
// request is parsed, and a malformed one is answered 400 or 505 by the sidecar itself. What no HTTP/1
// parser takes for a request (TLS, the HTTP/2 preface, other protocols) still reaches the app byte
// for byte.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { SidecarProcess } from '../support/sidecar-process';
import { startNamedServer, type NamedServer } from '../support/servers';
import { openTunnel } from '../support/tunnels';
import { exchangeRaw } from '../support/raw-sockets';
import type { TunnelClient } from '../../src/core/tunnel/tunnel-client';

const claimed = 'Host: a\r\nX-Intercept-Id: dev1\r\n\r\n';

describe('claimed requests in shapes a lenient server would accept', () => {
  let app: NamedServer;
  let dev: NamedServer;
  let sidecar: SidecarProcess;
  let tunnel: TunnelClient;

  before(async () => {
    app = await startNamedServer('app');
    dev = await startNamedServer('dev-laptop');
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    tunnel = await openTunnel(sidecar, 'dev1', dev.port);
  });

  after(async () => {
    await tunnel.close();
    await sidecar.stop();
    await Promise.all([app.close(), dev.close()]);
  });

  /** Sends `parts` on one connection; asserts the sidecar answered `status` itself and no request reached the app. */
  async function refused(parts: string[], status: number): Promise<string> {
    const appRequests = app.seen.length;
    const devRequests = dev.seen.length;
    const answer = (await exchangeRaw(sidecar.port, parts)).toString('latin1');
    const label = JSON.stringify(parts.join(''));
    assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), label);
    assert.match(answer, /\r\nx-intercept-error: 1\r\n/, `${label}: the sidecar's own answer`);
    assert.equal(app.seen.length, appRequests, `${label}: no request reaches the app`);
    assert.equal(dev.seen.length, devRequests, `${label}: nor the developer's program`);
    return answer;
  }

  it('answers 400 to malformed request lines and line ends, and never passes them to the app', async () => {
    for (const shape of [
      `\nGET /outer HTTP/1.1\r\n${claimed}`,
      `\r\n\nGET /outer HTTP/1.1\r\n${claimed}`,
      'GET /outer HTTP/1.1\nHost: a\nX-Intercept-Id: dev1\n\n',
      `GET /outer HTTP/1.1 \r\n${claimed}`,
      `GET /outer HTTP/1.1\rHost: a\r\nX-Intercept-Id: dev1\r\n\r\n`,
      `GET\t/outer\tHTTP/1.1\r\n${claimed}`,
      `GET /outer http/1.1\r\n${claimed}`,
      ` GET /outer HTTP/1.1\r\n${claimed}`,
      `GET /outer\r\n${claimed}`,
      `FOO /outer\rHTTP/1.1\r\n${claimed}`,
    ]) {
      await refused([shape], 400);
    }
    assert.equal(app.seen.length, 0);
  });

  it('answers 505 to another HTTP version in the request line', async () => {
    await refused([`GET /outer HTTP/2.0\r\n${claimed}`], 505);
    await refused([`PRI * HTTP/2.0\r\n${claimed}`], 505);
  });

  it('answers at once, without waiting for the rest of the head, when the first line already shows the fault', async () => {
    // The sidecar's head timeout is 30 s here; the answer comes long before the exchange's 5 s bound.
    const http09 = await refused(['GET /outer\r\n'], 400);
    assert.match(http09, /malformed request line/);
    await refused(['GET /outer HTTP/1.1\nHost: a\n'], 400);
    await refused(['GET /outer HTTP/1.1\rHost'], 400);
  });

  it('skips empty lines before a request line and routes the request by its claim', async () => {
    const devRequests = dev.seen.length;
    const appRequests = app.seen.length;
    const answer = (await exchangeRaw(sidecar.port, [`\r\n\r\nGET /outer HTTP/1.1\r\nHost: a\r\nX-Intercept-Id: dev1\r\nConnection: close\r\n\r\n`])).toString('latin1');
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\ndev-laptop GET \/outer\r\n/);
    assert.equal(dev.seen.length, devRequests + 1);
    assert.equal(app.seen.length, appRequests);
  });
});

describe('connections that are not HTTP/1', () => {
  let echo: net.Server;
  let sidecar: SidecarProcess;

  before(async () => {
    echo = net.createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    sidecar = await SidecarProcess.start({ appPorts: [(echo.address() as net.AddressInfo).port] });
  });

  after(async () => {
    await sidecar.stop();
    echo.close();
  });

  it('reach a raw TCP app byte for byte: TLS, the HTTP/2 preface, Redis, memcached', async () => {
    // A ClientHello whose ALPN list names http/1.1: binary from its first byte, whatever it contains.
    const clientHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03]), Buffer.from('\x00\x10\x00\x0e\x00\x0c\x02h2\x08http/1.1\r\n', 'latin1')]);
    for (const bytes of [
      clientHello,
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'latin1'),
      Buffer.from('*1\r\n$4\r\nPING\r\n'),
      Buffer.from('get some-key\r\n'),
    ]) {
      const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.end(bytes);
      await once(socket, 'close');
      assert.deepEqual(Buffer.concat(chunks), bytes, JSON.stringify(bytes.toString('latin1')));
    }
  });
});
