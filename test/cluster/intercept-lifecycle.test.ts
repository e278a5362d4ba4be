// Rules 1 and 2 across an intercept's life: traffic without a claim never fails during inject,
// intercept, stop and remove; claimed requests never reach the shared app while pods scale up and
// down; a developer's process that dies frees the claim after the grace, and new pods stop holding
// its requests once its announcement expires.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { requestService, waitFor, waitForServiceEndpoints } from '../harness/cluster/index.js';
import { createApp, startLocalServer } from '../harness/cluster/apps.js';
import { KeepAliveClient } from '../harness/cluster/keep-alive.js';
import { clusterSuite } from '../harness/cluster/suite.js';
import { fromApp, trafficLoop } from '../harness/cluster/traffic.js';
import { Injector } from '../../src/core/session/injector.js';
import { parseAnnouncedClaim } from '../../src/protocol/announced-claim.js';

void describe('intercept life cycle in the cluster', () => {
  const suite = clusterSuite('lifecycle');

  test('traffic without the header never fails during inject, intercept, stop and remove', async () => {
    const { kc, ns, runner, client, build } = suite;
    await createApp(kc, ns, 'calm', { replicas: 2, targetPort: 'http', servicePort: 80 });
    await runner.waitForRunning(2, 90_000);
    const laptop = await startLocalServer('ana');
    suite.cleanup(laptop.close);
    const traffic = trafficLoop(ns, 'calm', 80, kc, fromApp);
    const injector = new Injector({ client, build });
    const injection = await injector.inject({ namespace: ns, service: 'calm', port: 80 });
    const session = await suite.startSession({ injection, value: 'ana-calm', developer: 'ana', localPort: laptop.port });
    const claimed = await requestService(ns, 'calm', 80, { kubeConfig: kc, headers: { 'x-intercept-id': 'ana-calm' } });
    assert.equal(claimed.body.toString(), 'laptop:ana /');
    await session.stop();
    await injector.remove({ namespace: ns, service: 'calm' });
    const tally = await traffic.stop();
    assert.ok(tally.sent > 20, `traffic flowed throughout (${tally.sent} requests)`);
    assert.deepEqual({ failed: tally.failed, wrong: tally.wrong }, { failed: 0, wrong: 0 }, tally.errors.join('\n'));
  });

  test('scaling 3 → 6 and back, and a deleted pod, while claimed requests flow: none reaches the shared app', async () => {
    const { kc, ns, runner, client, build } = suite;
    await createApp(kc, ns, 'scaled', { replicas: 3, targetPort: 'http', servicePort: 80 });
    const laptop = await startLocalServer('bob');
    suite.cleanup(laptop.close);
    const injection = await new Injector({ client, build }).inject({ namespace: ns, service: 'scaled', port: 80 });
    const session = await suite.startSession({ injection, value: 'bob-scaled', developer: 'bob', localPort: laptop.port });
    const claimed = trafficLoop(ns, 'scaled', 80, kc, (status, body) => status === 200 && body === 'laptop:bob /', { 'x-intercept-id': 'bob-scaled' });
    const apps = kc.makeApiClient(AppsV1Api);
    const scale = async (replicas: number) => {
      await apps.patchNamespacedDeploymentScale({ namespace: ns, name: 'scaled', body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
      await waitFor(`${replicas} pods with tunnels`, () => {
        const pods = [...session.pods().values()];
        return pods.length === replicas && pods.every((s) => s === 'connected');
      }, { timeoutMs: 90_000 });
    };
    // Each new pod is asked straight away, as soon as its processes listen: before it is ready and so
    // before any tunnel can reach it. Only the announced claim keeps that request from the app.
    const known = new Set(runner.running().map((p) => p.name));
    const earlyAnswers: string[] = [];
    const asked = waitFor(
      'each new pod asked as soon as it runs',
      async () => {
        for (const p of runner.running()) {
          if (known.has(p.name) || !p.name.startsWith('scaled-')) continue;
          known.add(p.name);
          const http = new KeepAliveClient(await runner.connect(p.name, injection.listenPort));
          const r = await http.request('GET', '/early', { host: 'scaled', 'x-intercept-id': 'bob-scaled' }, 30_000);
          earlyAnswers.push(`${p.name}: ${r.status} ${r.body.toString().slice(0, 60)}`);
          http.close();
        }
        return earlyAnswers.length >= 3;
      },
      { timeoutMs: 60_000, everyMs: 50 },
    ).catch(() => undefined); // the count is asserted below, with what was answered
    await scale(6);
    await asked;
    assert.equal(earlyAnswers.length, 3, 'each new pod was asked');
    for (const a of earlyAnswers) assert.match(a, /: 200 laptop:bob \/early$/, 'a new pod held the claimed request for its tunnel');
    const servedBefore = claimed.tally.sent;
    await waitFor('claimed requests after the scale-up', () => claimed.tally.sent > servedBefore + 30, { timeoutMs: 60_000 });
    await scale(2);
    const victim = [...session.pods().keys()][0]!;
    await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: ns, name: victim });
    await waitFor('the replacement pod joined', () => session.pods().size === 2 && !session.pods().has(victim) && [...session.pods().values()].every((s) => s === 'connected'), { timeoutMs: 90_000 });
    const servedAfter = claimed.tally.sent;
    await waitFor('claimed requests after the pod was replaced', () => claimed.tally.sent > servedAfter + 30, { timeoutMs: 60_000 });
    const tally = await claimed.stop();
    assert.deepEqual({ failed: tally.failed, wrong: tally.wrong }, { failed: 0, wrong: 0 }, tally.errors.join('\n'));
  });

  test('the process holding the intercept is killed: default traffic goes on, the claim frees after the grace, new pods stop holding it after its expiry', async () => {
    const { kc, ns, runner, client, build } = suite;
    await createApp(kc, ns, 'orphan', { replicas: 2, targetPort: 'http', servicePort: 80 });
    await new Injector({ client, build }).inject({ namespace: ns, service: 'orphan', port: 80 });
    const laptop = await startLocalServer('carol');
    suite.cleanup(laptop.close);
    const cli = suite.startCli(['start', 'orphan', '--port', '80', '--local', String(laptop.port), '--header', 'x-intercept-id=carol-1', '--developer', 'carol', '-n', ns, '--json']);
    await waitFor('the command line intercepting', () => cli.output().includes('"type":"intercepting"'), { timeoutMs: 90_000 });
    assert.equal((await requestService(ns, 'orphan', 80, { kubeConfig: kc, headers: { 'x-intercept-id': 'carol-1' } })).body.toString(), 'laptop:carol /');

    const traffic = trafficLoop(ns, 'orphan', 80, kc, fromApp);
    cli.child.kill('SIGKILL');
    await cli.exited;

    // Its announcement stays until it expires; a pod that starts after that does not hold its requests.
    const injection = await new Injector({ client, build }).inject({ namespace: ns, service: 'orphan', port: 80 });
    const cm = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: ns, name: injection.record.claimsConfigMap });
    const dead = Object.values(cm.data ?? {})
      .map((t) => parseAnnouncedClaim(t))
      .find((p) => p.ok && p.claim.value === 'carol-1');
    assert.ok(dead?.ok, 'the killed process left its announcement behind');
    await waitFor('the dead announcement to expire', () => Date.now() > dead.expiresAtMs + 500, { timeoutMs: 60_000, everyMs: 500 });
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeploymentScale({ namespace: ns, name: 'orphan', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] });
    const orphans = () => runner.running().filter((p) => p.name.startsWith('orphan-'));
    await waitFor('a third pod running', () => orphans().length === 3, { timeoutMs: 90_000 });
    await waitForServiceEndpoints(ns, 'orphan', 80, 3, { kubeConfig: kc });
    const started = Date.now();
    for (const p of orphans()) {
      const r = await requestService(ns, 'orphan', 80, { kubeConfig: kc, pod: p.name, headers: { 'x-intercept-id': 'carol-1' }, timeoutMs: 30_000 });
      assert.ok(fromApp(r.status, r.body.toString()), `pod ${p.name} gave the dead claim's request to the app (${r.status})`);
    }
    assert.ok(Date.now() - started < 5_000, 'no pod held the requests of an expired claim');

    // Long after the sidecars' grace (10 s), the value is free for another developer.
    const dave = await startLocalServer('dave');
    suite.cleanup(dave.close);
    const taken = await suite.startSession({ injection, value: 'carol-1', developer: 'dave', localPort: dave.port });
    assert.equal((await requestService(ns, 'orphan', 80, { kubeConfig: kc, headers: { 'x-intercept-id': 'carol-1' } })).body.toString(), 'laptop:dave /');
    await taken.stop();
    const tally = await traffic.stop();
    assert.deepEqual({ failed: tally.failed, wrong: tally.wrong }, { failed: 0, wrong: 0 }, tally.errors.join('\n'));
  });
});
