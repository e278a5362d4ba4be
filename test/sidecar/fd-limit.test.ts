// At its limit of open files the sidecar cannot connect to the app. That is the sidecar's trouble,
// not the app's: the 502 says so, a warning is logged (once, not per request), and the sidecar serves
// again as soon as connections close.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { SidecarProcess } from '../support/sidecar-process';
import { raw } from '../support/raw-http';
import { get, startNamedServer } from '../support/servers';
import { waitFor } from '../support/wait';

const FD_LIMIT = 64;

describe('out of file descriptors', () => {
  it('answers 502 naming the sidecar, not the app, warns once, and serves again when connections close', async () => {
    const app = await startNamedServer('app');
    const sidecar = await SidecarProcess.start({ appPorts: [app.port], fdLimit: FD_LIMIT });
    const held: net.Socket[] = [];
    try {
      // Idle connections, one at a time, until the sidecar has one descriptor left. A keep-alive
      // connection on the listen port that made a request takes two (it keeps its app connection);
      // one on the health port takes one, to land exactly.
      const hold = async (port: number, fds: number, request?: string): Promise<void> => {
        const before = sidecar.openFdsBelow(FD_LIMIT);
        const socket = net.connect({ host: '127.0.0.1', port });
        let answered = '';
        socket.on('error', () => undefined);
        socket.on('data', (c: Buffer) => (answered += c.toString('latin1')));
        held.push(socket);
        await once(socket, 'connect');
        if (request !== undefined) {
          socket.write(`GET ${request} HTTP/1.1\r\nHost: x\r\n\r\n`);
          await waitFor(() => answered.includes(`app GET ${request}`) && answered.endsWith('\r\n\r\n'), 'the held connection\'s request to be answered');
        }
        await waitFor(() => sidecar.openFdsBelow(FD_LIMIT) >= before + fds, 'the sidecar to hold the connection');
      };
      for (let i = 0; i < FD_LIMIT && sidecar.openFdsBelow(FD_LIMIT) < FD_LIMIT - 2; i++) await hold(sidecar.port, 2, `/held-${i}`);
      if (sidecar.openFdsBelow(FD_LIMIT) < FD_LIMIT - 1) await hold(sidecar.healthPort, 1);
      assert.equal(sidecar.openFdsBelow(FD_LIMIT), FD_LIMIT - 1);

      // Each request's connection takes the last descriptor, so connecting to the app fails.
      for (const path of ['/first', '/second']) {
        const answer = await raw(sidecar.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.match(answer, /^HTTP\/1\.1 502 /);
        assert.match(answer, /the sidecar is out of file descriptors \(EMFILE\)/);
        assert.match(answer, /The app is not at fault/);
        assert.doesNotMatch(answer, /app at [^ ]+ closed the connection/);
      }
      const warning = await sidecar.waitForLog((l) => l.msg === 'out of file descriptors');
      assert.equal(warning.level, 'warn');
      assert.equal(warning.during, 'connecting to the app');
      assert.equal(warning.code, 'EMFILE');
      assert.equal(sidecar.logs.filter((l) => l.msg === 'out of file descriptors').length, 1, 'the second failure is not logged again');
      assert.ok(!app.seen.some((r) => r.url === '/first' || r.url === '/second'), 'the app never saw the refused requests');

      for (const socket of held) socket.destroy();
      await waitFor(() => sidecar.openFdsBelow(FD_LIMIT) < FD_LIMIT / 2, 'the sidecar closed the connections');
      assert.ok(sidecar.alive);
      assert.equal((await get(sidecar.port, '/again')).body, 'app GET /again');
    } finally {
      for (const socket of held) socket.destroy();
      await sidecar.stop();
      await app.close();
    }
  });
});
