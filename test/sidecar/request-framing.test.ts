// Chunk lines and trailers of a request body are held to the head's rules: a shape a lenient server
// could read another way (a request hidden in a trailer, whitespace in a chunk line) is answered 400
// by the sidecar, and nothing after the head reaches the app.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SidecarProcess } from '../support/sidecar-process';
import { RawClient, startRawServer, type RawServer } from '../support/raw-sockets';
import { waitFor } from '../support/wait';

const head = 'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
const smuggled = 'GET /SMUGGLED HTTP/1.1\r\nHost: a\r\n\r\n';

describe('request chunk framing and trailers', () => {
  let app: RawServer; // records what reaches it and never answers
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startRawServer();
    sidecar = await SidecarProcess.start({ appPorts: [app.port] });
  });

  after(async () => {
    await sidecar.stop();
    await app.close();
  });

  /** Sends the head, and once the app has it, the body; the sidecar must answer 400 and the app get the head only. */
  async function refused(body: string): Promise<void> {
    const label = JSON.stringify(body);
    const before = app.connections.length;
    const client = await RawClient.connect(sidecar.port);
    try {
      await client.write(head);
      // The body goes out only once the head reached the app: the app's connection exists, so any
      // byte of the body forwarded by mistake would reach it.
      await waitFor(() => app.connections.length > before && app.connections.at(-1)!.received().length >= head.length, `${label}: the head at the app`);
      await client.write(body);
      const answer = (await client.untilClosed()).toString('latin1');
      assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*x-intercept-error: 1\r\n/, label);
    } finally {
      client.destroy();
    }
    const conn = app.connections.at(-1)!;
    await waitFor(conn.closed, `${label}: the sidecar closes the app's connection`);
    assert.equal(conn.received().toString('latin1'), head, `${label}: nothing after the head reaches the app`);
  }

  it('refuses chunk-size lines with whitespace, junk or an empty extension', async () => {
    for (const line of ['5 x', '5 5', '5\t', '5 ;a=b', '5;', '5;a= b']) {
      await refused(`${line}\r\nhello\r\n0\r\n\r\n${smuggled}`);
    }
  });

  it('refuses trailers the head would refuse: no colon, an empty name, a space before the colon, obs-fold', async () => {
    for (const trailers of [
      `GET /SMUGGLED HTTP/1.1\r\nHost: a\r\n`,
      ': v\r\n',
      'X-A : v\r\n',
      'X-A: v\r\n folded\r\n',
      'X-A: v\x00\r\n',
    ]) {
      await refused(`5\r\nhello\r\n0\r\n${trailers}\r\n${smuggled}`);
    }
  });

  it('refuses framing and routing fields as trailers', async () => {
    for (const field of ['Content-Length: 40', 'Transfer-Encoding: chunked', 'Host: b', 'Connection: close', 'x-intercept-id: x\r\nTE: trailers']) {
      await refused(`5\r\nhello\r\n0\r\n${field}\r\n\r\n${smuggled}`);
    }
  });
});
