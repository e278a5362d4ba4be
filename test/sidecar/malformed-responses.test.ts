// Responses the sidecar cannot frame safely: a head with bare LF line ends is answered 502 at once
// (a client must not wait for a blank line that never comes), and a malformed chunk line or trailer
// gives 502 if nothing of the response went out yet, or cuts the client's connection if it did.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarProcess } from '../support/sidecar-process';
import { openTunnel } from '../support/tunnels';
import { RawClient, exchangeRaw, startRawServer, type RawConnection, type RawServer } from '../support/raw-sockets';
import { waitFor } from '../support/wait';
import type { TunnelClient } from '../../src/core/tunnel/tunnel-client';

const BARE_LF_HEAD = 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok';

/** Answers each request head by its path, from `responses`; the connection stays open. */
function scripted(responses: Record<string, (conn: RawConnection) => void>): (conn: RawConnection) => void {
  return (conn) => {
    let answered = false;
    conn.socket.on('data', () => {
      const text = conn.received().toString('latin1');
      if (answered || !text.includes('\r\n\r\n')) return;
      answered = true;
      const path = /^\S+ (\S+)/.exec(text)?.[1] ?? '';
      responses[path]?.(conn);
    });
  };
}

describe('malformed responses', () => {
  let app: RawServer;
  let dev: RawServer;
  let sidecar: SidecarProcess;
  let tunnel: TunnelClient;
  let sendRest: (() => void) | null = null;

  before(async () => {
    const responses: Record<string, (conn: RawConnection) => void> = {
      '/bare-lf': (c) => c.socket.write(BARE_LF_HEAD),
      '/bad-chunk': (c) => c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n'),
      '/bad-trailer-later': (c) => {
        c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
        sendRest = () => c.socket.write('0\r\nContent-Length: 5\r\n\r\n');
      },
    };
    app = await startRawServer(scripted(responses));
    dev = await startRawServer(scripted(responses));
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
    tunnel = await openTunnel(sidecar, 'dev1', dev.port);
  });

  after(async () => {
    await tunnel.close();
    await sidecar.stop();
    await Promise.all([app.close(), dev.close()]);
  });

  const request = (path: string, claim: boolean): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n${claim ? 'X-Intercept-Id: dev1\r\n' : ''}\r\n`;

  it('answers 502 at once to a response head with bare LF line ends, from the app or a tunnel', async () => {
    for (const claim of [false, true]) {
      // The sidecar answers on the first bare LF; the 5 s bound only keeps a failure from hanging.
      const answer = (await exchangeRaw(sidecar.port, [request('/bare-lf', claim)], 5000)).toString('latin1');
      assert.match(answer, /^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*x-intercept-error: 1\r\n[\s\S]*bare LF/, `claim ${claim}`);
      assert.doesNotMatch(answer, /ok$/, 'nothing of the malformed response is forwarded');
    }
  });

  it('answers 502 to a malformed chunk line when nothing of the response went out yet', async () => {
    const answer = (await exchangeRaw(sidecar.port, [request('/bad-chunk', false)])).toString('latin1');
    assert.match(answer, /^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*x-intercept-error: 1\r\n[\s\S]*invalid chunk size/);
  });

  it('cuts the client connection on a forbidden trailer once the response has started', async () => {
    const client = await RawClient.connect(sidecar.port);
    try {
      await client.write(request('/bad-trailer-later', false));
      await waitFor(() => client.received().toString('latin1').endsWith('5\r\nhello\r\n'), 'the first chunk at the client');
      assert.ok(sendRest);
      sendRest();
      const got = (await client.untilClosed()).toString('latin1');
      assert.ok(got.endsWith('5\r\nhello\r\n'), `the response is cut after its first chunk, got ${JSON.stringify(got)}`);
      assert.ok(client.reset, 'a cut response reaches the client as a reset, never as a clean end');
    } finally {
      client.destroy();
    }
  });
});
