// A container runtime may break the sidecar's log pipe. Logging must then never fail the process nor
// feed on its own failure (each failed write reported as an error, whose log line fails again): the
// sidecar keeps serving, stays idle when idle, and still ends within its drain time on SIGTERM.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer } from '../support/servers';

describe('a closed log pipe', () => {
  it('is survived: requests are answered, the idle process does not spin, SIGTERM ends it within the drain time', async () => {
    const app = await startNamedServer('app');
    // Debug level: every request writes a log line into the broken pipe.
    const sidecar = await SidecarProcess.start({ appPorts: [app.port], logLevel: 'debug', extraArgs: ['--drain-timeout', '1'] });
    try {
      // Close the reading end, as a log collector that goes away does: the next write gets EPIPE.
      sidecar.child.stdout.destroy();
      for (let i = 0; i < 20; i++) {
        const answer = await get(sidecar.port, `/n${i}`);
        assert.equal(answer.body, `app GET /n${i}`);
      }
      assert.ok(sidecar.alive, 'the sidecar process is alive');

      // Idle now: a process that spins on its own log errors would use close to a whole core.
      const cpuBefore = sidecar.cpuSeconds();
      const started = process.hrtime.bigint();
      await delay(1500);
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const share = (sidecar.cpuSeconds() - cpuBefore) / elapsed;
      assert.ok(share < 0.2, `the idle sidecar used ${Math.round(share * 100)} % of a CPU`);

      // Drain time 1 s: it ends within that plus the exit margin.
      sidecar.child.kill('SIGTERM');
      assert.equal(await sidecar.waitForExit(3000), 0);
      // The one trace of the broken pipe goes to stderr, once.
      if (!sidecar.child.stderr.closed) await once(sidecar.child.stderr, 'close');
      assert.equal(sidecar.rawOutput.match(/writing the log to stdout failed \(EPIPE\)/g)?.length, 1, sidecar.rawOutput);
    } finally {
      await sidecar.stop();
      await app.close();
    }
  });
});
