// The `intercept` command line (dist/cli.js) as a user runs it against the test cluster: its output
// for scripts (--json), its exit codes, and stop/remove from another terminal.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { requestService, waitFor } from '../harness/cluster/index.js';
import { createApp, startLocalServer } from '../harness/cluster/apps.js';
import { CLI, clusterSuite } from '../harness/cluster/suite.js';

void describe('the intercept command line', () => {
  const suite = clusterSuite('cli');

  /** Runs the command line to its end: exit code and the JSON lines it printed. */
  async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> {
    const child = spawn(process.execPath, [CLI, ...args], { env: suite.cliEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code, lines, stderr: err };
  }

  before(async () => {
    const { kc, ns, runner } = suite;
    await createApp(kc, ns, 'shop', { replicas: 2, targetPort: 'http', servicePort: 80 });
    await kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace: ns, body: { metadata: { name: 'external-db' }, spec: { ports: [{ port: 5432 }] } } });
    await runner.waitForRunning(2, 90_000);
  });

  test('services lists each Service with whether and why not it can be intercepted', async () => {
    const { ns } = suite;
    const r = await cli(['services', '-n', ns, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const services = r.lines[0]!.services as { name: string; refusal?: { reason: string } }[];
    assert.deepEqual(services.map((s) => [s.name, s.refusal?.reason ?? 'ok']), [
      ['external-db', 'no-selector'],
      ['shop', 'ok'],
    ]);
  });

  test('bad usage, a missing Service and a missing kubeconfig have exit codes of their own', async () => {
    const { ns } = suite;
    assert.equal((await cli(['start', 'shop', '-n', ns])).code, 2, 'start without --port/--local');
    assert.equal((await cli(['frobnicate'])).code, 2);
    const missing = await cli(['start', 'nope', '--port', '80', '--local', '1', '-n', ns, '--json']);
    assert.equal(missing.code, 5);
    assert.equal(missing.lines.at(-1)!.kind, 'not-found');
    const noConfig = await cli(['services', '--json'], { KUBECONFIG: path.join(os.tmpdir(), 'intercept-no-such-kubeconfig.yaml') });
    assert.equal(noConfig.code, 3);
    assert.equal(noConfig.lines.at(-1)!.kind, 'no-kubeconfig');
  });

  test('start intercepts until stopped from another terminal; status names the holder; remove is refused while it holds, then restores', async () => {
    const { kc, ns } = suite;
    const laptop = await startLocalServer('erin');
    suite.cleanup(laptop.close);
    const start = suite.startCli(['start', 'shop', '--port', '80', '--local', String(laptop.port), '--header', 'x-intercept-id=erin-1', '--developer', 'erin', '-n', ns, '--json']);
    await waitFor('the intercept to run', () => start.output().includes('"type":"intercepting"'), { timeoutMs: 90_000 });
    const routed = await requestService(ns, 'shop', 80, { kubeConfig: kc, path: '/cart', headers: { 'x-intercept-id': 'erin-1' } });
    assert.equal(routed.body.toString(), 'laptop:erin /cart');
    await waitFor('the request to be shown', () => start.output().includes('"type":"request"') && start.output().includes('"path":"/cart"'), { timeoutMs: 10_000 });

    const status = await cli(['status', '-n', ns, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const workloads = status.lines[0]!.workloads as { name: string; pods: { claims: { developer: string; value: string }[] }[] }[];
    assert.equal(workloads.length, 1);
    assert.equal(workloads[0]!.pods.length, 2);
    assert.ok(workloads[0]!.pods.every((p) => p.claims.some((c) => c.developer === 'erin' && c.value === 'erin-1')), JSON.stringify(workloads));

    const refused = await cli(['remove', 'shop', '-n', ns, '--json']);
    assert.equal(refused.code, 6);
    assert.deepEqual(refused.lines.at(-1)!.holders, ['erin']);

    const stopped = await cli(['stop', 'shop', '-n', ns, '--json']);
    assert.equal(stopped.code, 0, stopped.stderr);
    const exited = await Promise.race([start.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000).unref())]);
    assert.ok(exited, `start did not exit after stop:\n${start.output()}`);
    assert.equal(exited[0], 0, start.output());
    const after = await requestService(ns, 'shop', 80, { kubeConfig: kc, headers: { 'x-intercept-id': 'erin-1' } });
    assert.ok(after.body.toString().startsWith('{'), 'the claim is released: the pods answer');

    const removed = await cli(['remove', 'shop', '-n', ns, '--json']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.lines.at(-1)!.removedSidecar, true);
    const none = await cli(['status', '-n', ns, '--json']);
    assert.deepEqual(none.lines[0]!.workloads, []);
  });
});
