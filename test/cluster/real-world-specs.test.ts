// Injection and restore against workloads as public manifests write them: a namespace that enforces
// the restricted Pod Security Standard, LimitRanges (one the sidecar fits, one it breaks), a paused
// Deployment, `maxUnavailable: 0`, hostNetwork pods, another writer racing the core's Service patch,
// and a rollout the user gives up on (a bound on the wait, Ctrl-C).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1LimitRangeItem, type V1SecurityContext } from '@kubernetes/client-node';
import { waitFor } from '../harness/cluster/index.js';
import { comparable, createApp, startLocalServer } from '../harness/cluster/apps.js';
import { clusterSuite, type ClusterSuite } from '../harness/cluster/suite.js';
import { fromApp, trafficLoop } from '../harness/cluster/traffic.js';
import type { CoreError } from '../../src/core/errors.js';
import type { ApiAction } from '../../src/core/kube/api-errors.js';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector, type InjectEvent } from '../../src/core/session/injector.js';
import { SIDECAR_CONTAINER } from '../../src/core/session/names.js';

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicPatch = () => setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The failure of a CoreError, checked by shape (this ES module and the CommonJS core may load the class twice). */
function failureOf(err: unknown): CoreError['failure'] {
  const e = err as CoreError;
  assert.equal(e.name, 'CoreError', String((err as Error)?.stack ?? err));
  return e.failure;
}

/** Workload, Service and ConfigMaps as they are now, compared after a refusal or an undo. */
async function snapshot(kc: KubeConfig, namespace: string, name: string) {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    deployment: comparable(await apps.readNamespacedDeployment({ namespace, name })),
    service: comparable(await core.readNamespacedService({ namespace, name })),
    configMaps: (await core.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata!.name!).sort(),
  };
}

/** The one replica set of a test app is ready. */
async function rolledOut(suite: ClusterSuite, name: string, replicas = 1): Promise<void> {
  await waitFor(
    `${name} rolled out`,
    async () => {
      const d = await suite.kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: suite.ns, name });
      return d.status?.observedGeneration === d.metadata?.generation && d.status?.readyReplicas === replicas && d.status?.updatedReplicas === replicas && d.status?.replicas === replicas;
    },
    { timeoutMs: 90_000 },
  );
}

// What hardened manifests set: a non-root user and group, no privilege escalation, no capabilities,
// the runtime's seccomp profile, and a read-only root file system.
const RESTRICTED_CONTAINER: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};
const RESTRICTED_POD = { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } };

void describe('workloads as public manifests write them', () => {
  const suite = clusterSuite('specs');

  test('a namespace that enforces the restricted Pod Security Standard, a hardened workload: injected, claimed requests reach the local server, the rest the pods, restore exact', async () => {
    const { kc, ns, client, build } = suite;
    const core = kc.makeApiClient(CoreV1Api);
    // The namespace enforces the restricted level for this test only: the other workloads here are plain.
    const enforce = (level: string | null) =>
      core.patchNamespace({ name: ns, body: { metadata: { labels: { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/enforce-version': level && 'latest' } } } }, mergePatch());
    await enforce('restricted');
    suite.cleanup(() => enforce(null));
    // The admission really enforces it here: a pod without the restricted settings is refused.
    await assert.rejects(
      core.createNamespacedPod({ namespace: ns, dryRun: 'All', body: { metadata: { name: 'plain' }, spec: { containers: [{ name: 'app', image: 'registry.example/shop:1' }] } } }),
      (err: { code?: number; body?: string }) => {
        assert.equal(err.code, 403);
        assert.match((JSON.parse(String(err.body)) as { message: string }).message, /violates PodSecurity "restricted:latest"/);
        return true;
      },
    );
    await createApp(kc, ns, 'hardened', { replicas: 2, targetPort: 'http', servicePort: 80, podSecurityContext: RESTRICTED_POD, securityContext: RESTRICTED_CONTAINER });
    await rolledOut(suite, 'hardened', 2);
    const before = await snapshot(kc, ns, 'hardened');

    const laptop = await startLocalServer('ana');
    suite.cleanup(laptop.close);
    const injector = new Injector({ client, build, rollout: { stallAfterMs: 20_000 } });
    const injection = await injector.inject({ namespace: ns, service: 'hardened', port: 80 });
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=hardened' })).items;
    assert.ok(pods.length === 2 && pods.every((p) => p.spec!.containers.some((c) => c.name === SIDECAR_CONTAINER)), 'the admission let the pods with the sidecar in');

    const session = await suite.startSession({ injection, value: 'ana-hardened', developer: 'ana', localPort: laptop.port });
    for (const c of await suite.perPod('hardened', 80, 2)) {
      assert.equal((await c.http.request('GET', '/cart', { host: 'hardened', 'x-intercept-id': 'ana-hardened' })).body.toString(), 'laptop:ana /cart');
      assert.equal((JSON.parse((await c.http.request('GET', '/cart', { host: 'hardened' })).body.toString()) as { pod: string }).pod, c.pod);
      c.http.close();
    }
    await session.stop();
    await injector.remove({ namespace: ns, service: 'hardened' });
    assert.deepEqual(await snapshot(kc, ns, 'hardened'), before);
    await enforce(null);
  });

  /** Creates a LimitRange for the namespace's containers, deleted after the tests at the latest. */
  async function limitRange(name: string, limit: V1LimitRangeItem): Promise<() => Promise<void>> {
    const { kc, ns } = suite;
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedLimitRange({ namespace: ns, body: { metadata: { name }, spec: { limits: [limit] } } });
    let deleted = false;
    const remove = async () => {
      if (deleted) return;
      deleted = true;
      await core.deleteNamespacedLimitRange({ namespace: ns, name });
    };
    suite.cleanup(remove);
    return remove;
  }

  test('a LimitRange with defaults and a maximum the sidecar fits: injected, restore exact', async () => {
    const { kc, ns, client, build } = suite;
    const removeLimits = await limitRange('roomy', {
      type: 'Container',
      _default: { cpu: '200m', memory: '128Mi' },
      defaultRequest: { cpu: '50m', memory: '64Mi' },
      max: { cpu: '2', memory: '512Mi' },
      min: { cpu: '10m', memory: '32Mi' },
    });
    await createApp(kc, ns, 'roomy', { targetPort: 'http' });
    await rolledOut(suite, 'roomy');
    const before = await snapshot(kc, ns, 'roomy');
    const injector = new Injector({ client, build, rollout: { stallAfterMs: 20_000 } });
    await injector.inject({ namespace: ns, service: 'roomy', port: 8080 });
    const [pod] = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=roomy' })).items;
    const app = pod!.spec!.containers.find((c) => c.name === 'app')!;
    assert.deepEqual(app.resources?.limits, { cpu: '200m', memory: '128Mi' }, 'the LimitRange gave the app its defaults');
    await injector.remove({ namespace: ns, service: 'roomy' });
    assert.deepEqual(await snapshot(kc, ns, 'roomy'), before);
    await removeLimits();
  });

  test('a paused Deployment: inject and remove are refused before anything changes, saying how to resume it; with the sidecar in place it is intercepted', async () => {
    const { kc, ns, client, build } = suite;
    const apps = kc.makeApiClient(AppsV1Api);
    const pause = (paused: boolean) => apps.patchNamespacedDeployment({ namespace: ns, name: 'paused', body: { spec: { paused } } }, mergePatch());
    const refusedAsPaused = (err: unknown) => {
      const f = failureOf(err);
      assert.ok(f.kind === 'not-interceptable' && f.reason === 'paused', JSON.stringify(f));
      assert.match(f.message, /Deployment paused is paused/);
      assert.match(f.hint, /kubectl rollout resume deployment\/paused/);
      return true;
    };
    await createApp(kc, ns, 'paused', { targetPort: 'http' });
    await rolledOut(suite, 'paused');
    await pause(true);
    const before = await snapshot(kc, ns, 'paused');
    const injector = new Injector({ client, build, rollout: { stallAfterMs: 20_000 } });
    await assert.rejects(injector.inject({ namespace: ns, service: 'paused', port: 8080 }), refusedAsPaused);
    assert.deepEqual(await snapshot(kc, ns, 'paused'), before);

    // Resumed, injected, paused again: the next intercept needs no rollout; removing is refused.
    await pause(false);
    await injector.inject({ namespace: ns, service: 'paused', port: 8080 });
    await pause(true);
    const again = await injector.inject({ namespace: ns, service: 'paused', port: 8080 });
    assert.equal(again.reused, true);
    const during = await snapshot(kc, ns, 'paused');
    await assert.rejects(injector.remove({ namespace: ns, service: 'paused' }), refusedAsPaused);
    assert.deepEqual(await snapshot(kc, ns, 'paused'), during);
    await pause(false);
    await injector.remove({ namespace: ns, service: 'paused' });
  });

  test('maxUnavailable 0 and maxSurge 1 on 3 replicas: default traffic never fails during inject and remove; restore exact', async () => {
    const { kc, ns, client, build } = suite;
    await createApp(kc, ns, 'careful', { replicas: 3, targetPort: 'http', servicePort: 80, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
    await rolledOut(suite, 'careful', 3);
    const before = await snapshot(kc, ns, 'careful');
    const traffic = trafficLoop(ns, 'careful', 80, kc, fromApp);
    const injector = new Injector({ client, build, rollout: { stallAfterMs: 30_000 } });
    await injector.inject({ namespace: ns, service: 'careful', port: 80 });
    await injector.remove({ namespace: ns, service: 'careful' });
    const tally = await traffic.stop();
    assert.ok(tally.sent > 20, `traffic flowed throughout (${tally.sent} requests)`);
    assert.deepEqual({ failed: tally.failed, wrong: tally.wrong }, { failed: 0, wrong: 0 }, tally.errors.join('\n'));
    assert.deepEqual(await snapshot(kc, ns, 'careful'), before);
  });

  test('hostNetwork pods: refused with the reason, nothing changed', async () => {
    const { kc, ns, client, build } = suite;
    await createApp(kc, ns, 'on-node', { targetPort: 'http', hostNetwork: true });
    const before = await snapshot(kc, ns, 'on-node');
    await assert.rejects(new Injector({ client, build }).inject({ namespace: ns, service: 'on-node', port: 8080 }), (err) => {
      const f = failureOf(err);
      assert.ok(f.kind === 'not-interceptable' && f.reason === 'host-network', JSON.stringify(f));
      return true;
    });
    assert.deepEqual(await snapshot(kc, ns, 'on-node'), before);
  });

  test("another writer changes the Service between the core's read and its patch: the patch is retried on fresh state, their change survives inject and remove", async () => {
    const { kc, ns, build } = suite;
    const core = kc.makeApiClient(CoreV1Api);
    await createApp(kc, ns, 'raced', { targetPort: 'http' });
    await rolledOut(suite, 'raced');
    const deploymentBefore = await snapshot(kc, ns, 'raced');
    const client = new RacingClient(kc);
    const injector = new Injector({ client, build, rollout: { stallAfterMs: 20_000 } });

    // Their deploy tool labels the Service and writes the named targetPort as its number.
    client.raceNextServicePatch(() =>
      core.patchNamespacedService({ namespace: ns, name: 'raced', body: { metadata: { labels: { owner: 'platform' } }, spec: { ports: [{ port: 8080, targetPort: 8080 }] } } }, strategicPatch()),
    );
    const injection = await injector.inject({ namespace: ns, service: 'raced', port: 8080 });
    assert.equal(client.servicePatches, 2, 'the first patch failed its test and was retried once');
    let svc = await core.readNamespacedService({ namespace: ns, name: 'raced' });
    assert.equal(svc.metadata!.labels!.owner, 'platform');
    assert.equal(svc.spec!.ports![0]!.targetPort, injection.listenPort);

    // During removal they add a port in front of the intercepted one.
    client.raceNextServicePatch(() =>
      core.patchNamespacedService({ namespace: ns, name: 'raced', body: [{ op: 'add', path: '/spec/ports/0', value: { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' } }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
    );
    await injector.remove({ namespace: ns, service: 'raced' });
    assert.equal(client.servicePatches, 4, 'the restore patch failed its test and was retried once');
    svc = await core.readNamespacedService({ namespace: ns, name: 'raced' });
    assert.equal(svc.metadata!.labels!.owner, 'platform');
    assert.deepEqual(
      svc.spec!.ports!.map((p) => [p.name, p.port, p.targetPort]),
      [
        ['metrics', 9090, 9090],
        ['web', 8080, 8080],
      ],
    );
    assert.equal(svc.metadata!.annotations, undefined, 'no record of the intercept is left');
    const after = await snapshot(kc, ns, 'raced');
    assert.deepEqual(after.deployment, deploymentBefore.deployment);
    assert.deepEqual(after.configMaps, deploymentBefore.configMaps);
  });

  test('another writer points the Service port at another app port meanwhile: the move gives way with a conflict, undone, their port kept', async () => {
    const { kc, ns, build } = suite;
    const core = kc.makeApiClient(CoreV1Api);
    const before = await snapshot(kc, ns, 'raced');
    const client = new RacingClient(kc);
    client.raceNextServicePatch(() =>
      core.patchNamespacedService({ namespace: ns, name: 'raced', body: { spec: { ports: [{ port: 8080, targetPort: 9090 }] } } }, strategicPatch()),
    );
    await assert.rejects(new Injector({ client, build, rollout: { stallAfterMs: 20_000 } }).inject({ namespace: ns, service: 'raced', port: 8080 }), (err) => {
      const f = failureOf(err);
      assert.equal(f.kind, 'conflict', JSON.stringify(f));
      assert.match(f.message, /changed to target 9090/);
      return true;
    });
    const after = await snapshot(kc, ns, 'raced');
    assert.deepEqual(after.deployment, before.deployment);
    assert.deepEqual(after.configMaps, before.configMaps);
    const svc = await core.readNamespacedService({ namespace: ns, name: 'raced' });
    assert.equal(svc.spec!.ports!.find((p) => p.name === 'web')!.targetPort, 9090, 'their change stands');
    assert.equal(svc.metadata!.annotations, undefined);
  });

  // A maximum below the sidecar's memory limit: its pods are refused by the LimitRanger admission.
  // Shared by the tests that give up on such a rollout; removed after the last of them.
  let removeTightLimits: () => Promise<void> = () => Promise.resolve();

  test("a LimitRange the sidecar breaks: its pods are refused, the stall names the LimitRange's message and is undone; default traffic never fails", async () => {
    const { kc, ns, client, build } = suite;
    await createApp(kc, ns, 'limited', { targetPort: 'http' });
    await rolledOut(suite, 'limited');
    removeTightLimits = await limitRange('tight', { type: 'Container', max: { memory: '128Mi' } });
    const before = await snapshot(kc, ns, 'limited');
    const events: InjectEvent[] = [];
    const injector = new Injector({ client, build, rollout: { stallAfterMs: 3_000 }, onEvent: (e) => events.push(e) });
    const traffic = trafficLoop(ns, 'limited', 8080, kc, fromApp);
    await assert.rejects(injector.inject({ namespace: ns, service: 'limited', port: 8080 }), (err) => {
      const f = failureOf(err);
      assert.equal(f.kind, 'rollout-stalled', JSON.stringify(f));
      assert.ok(f.kind === 'rollout-stalled');
      assert.match(f.cause, /are refused: .*maximum memory usage per Container is 128Mi, but limit is 256Mi/);
      return true;
    });
    assert.ok(
      events.some((e) => e.kind === 'rollout' && /maximum memory usage per Container is 128Mi/.test(e.stall ?? '')),
      'the stall was reported while waiting',
    );
    assert.ok(events.some((e) => e.kind === 'step' && e.step === 'undo'));
    assert.deepEqual(await snapshot(kc, ns, 'limited'), before, 'workload, Service and ConfigMaps are as before');
    await rolledOut(suite, 'limited');
    const sent = traffic.tally.sent;
    await waitFor('requests after the undo', () => traffic.tally.sent > sent + 5, { timeoutMs: 30_000 });
    const tally = await traffic.stop();
    assert.deepEqual({ failed: tally.failed, wrong: tally.wrong }, { failed: 0, wrong: 0 }, tally.errors.join('\n'));
  });

  test('the command line gives up on a stalled rollout after --rollout-timeout, and on Ctrl-C, undoing the change both times', async () => {
    const { kc, ns } = suite;
    const before = await snapshot(kc, ns, 'limited');
    const start = ['start', 'limited', '--port', '8080', '--local', '1', '--header', 'x-intercept-id=fay-1', '-n', ns, '--json'];
    const events = (out: string) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

    const timed = suite.startCli([...start, '--rollout-timeout', '4']);
    const [code] = await timed.exited;
    assert.equal(code, 7, timed.output());
    const error = events(timed.output()).at(-1)!;
    assert.equal(error.kind, 'rollout-stalled', timed.output());
    assert.match(String(error.cause), /maximum memory usage per Container is 128Mi/);
    assert.match(String(error.message), /did not finish within 4 s .*: New pods of .* are refused/, 'the message names the cause');
    assert.deepEqual(await snapshot(kc, ns, 'limited'), before);

    const interrupted = suite.startCli(start);
    await waitFor('the stall to be shown', () => events(interrupted.output()).some((e) => e.type === 'rollout' && typeof e.stall === 'string'), { timeoutMs: 60_000 });
    interrupted.child.kill('SIGINT');
    const [code2] = await interrupted.exited;
    assert.equal(code2, 130, interrupted.output());
    assert.ok(events(interrupted.output()).some((e) => e.type === 'step' && e.step === 'undo'), interrupted.output());
    assert.deepEqual(await snapshot(kc, ns, 'limited'), before);
    await removeTightLimits();
  });
});

/**
 * The core's own client, except that the next patch of a Service first lets another writer change
 * it: the race between the core's read and its patch, made certain. Counts the Service patches.
 */
class RacingClient extends KubeClient {
  servicePatches = 0;
  private readonly writers: (() => Promise<unknown>)[] = [];

  raceNextServicePatch(write: () => Promise<unknown>): void {
    this.writers.push(write);
  }

  override async call<T>(action: ApiAction, fn: () => Promise<T>): Promise<T> {
    if (action.verb === 'patch' && action.resource === 'services') {
      this.servicePatches++;
      await this.writers.shift()?.();
    }
    return super.call(action, fn);
  }
}
