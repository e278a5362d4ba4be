// The whole intercept against the test cluster, driven by the core as the editor and the command line
// drive it: inject, a tunnel per pod with the claim, routing on every replica, two developers, exact
// restore, another writer during injection, and clear refusals that change nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createTestNamespace, deleteNamespace, kubeConfigForServiceAccount, waitFor } from '../harness/cluster/index.js';
import { comparable, createApp, startLocalServer, type AppShape } from '../harness/cluster/apps.js';
import type { KeepAliveClient } from '../harness/cluster/keep-alive.js';
import { clusterSuite } from '../harness/cluster/suite.js';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector } from '../../src/core/session/injector.js';
import { usedPorts } from '../../src/core/session/injection-plan.js';
import type { CoreError } from '../../src/core/errors.js';

/** Checked by shape: this ES module and the CommonJS core may load the class twice. */
function failureKind(err: unknown): string {
  const e = err as CoreError;
  assert.equal(e.name, 'CoreError', String((err as Error)?.stack ?? err));
  return e.failure.kind;
}

void describe('intercept in the cluster', () => {
  const suite = clusterSuite('intercept');

  /** The one replica of a test app is ready. */
  const rolledOut = (name: string) =>
    waitFor(`${name} rolled out`, async () => (await suite.kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: suite.ns, name })).status?.readyReplicas === 1, {
      timeoutMs: 60_000,
    });

  const injector = () => new Injector({ client: suite.client, build: suite.build, rollout: { stallAfterMs: 30_000, timeoutMs: 90_000 } });

  test('a 3-replica Deployment: with the header every pod sends to the local server, without it the pod answers; 10,000 mixed requests, no misroute', async () => {
    const { kc, ns, runner } = suite;
    await createApp(kc, ns, 'shop', { replicas: 3, targetPort: 'http', servicePort: 80 });
    await runner.waitForRunning(3, 90_000);
    const laptop = await startLocalServer('ana');
    suite.cleanup(laptop.close);
    const injection = await injector().inject({ namespace: ns, service: 'shop', port: 80 });
    assert.equal(injection.appPort, 8080);
    const s = await suite.startSession({ injection, value: 'ana-1', developer: 'ana', localPort: laptop.port });
    assert.equal(s.pods().size, 3, 'one tunnel per ready pod');
    assert.ok([...s.pods().values()].every((st) => st === 'connected'));

    const clients = await suite.perPod('shop', 80, 3);
    let misroutes = 0;
    const seen = new Set<string>();
    // Each pod's connection carries its share, the pods in parallel: 10,000 requests in all.
    await Promise.all(
      clients.map(async (c, k) => {
        for (let i = k; i < 10_000; i += clients.length) {
          const claimed = i % 2 === 0;
          const r = await c.http.request('GET', `/r/${i}`, { host: 'shop', ...(claimed ? { 'x-intercept-id': 'ana-1' } : {}) });
          assert.equal(r.status, 200);
          const text = r.body.toString();
          const ok = claimed ? text === `laptop:ana /r/${i}` : (JSON.parse(text) as { pod: string }).pod === c.pod;
          if (!ok) misroutes++;
          if (claimed) seen.add(c.pod);
        }
      }),
    );
    for (const c of clients) c.http.close();
    assert.equal(misroutes, 0);
    assert.equal(seen.size, 3, 'claimed requests were served through every replica');
  });

  test('two developers on one Service: each gets their own requests; one stops and the other and the default go on; a third is refused naming the holder', async () => {
    const { ns } = suite;
    const injection = await injector().inject({ namespace: ns, service: 'shop', port: 80 });
    assert.equal(injection.reused, true, 'the second intercept reuses the sidecar, no restart');
    const bobLaptop = await startLocalServer('bob');
    suite.cleanup(bobLaptop.close);
    const bob = await suite.startSession({ injection, value: 'bob-1', developer: 'bob', localPort: bobLaptop.port });
    const clients = await suite.perPod('shop', 80, 3);
    const ask = async (c: { pod: string; http: KeepAliveClient }, value?: string) =>
      (await c.http.request('GET', '/x', { host: 'shop', ...(value ? { 'x-intercept-id': value } : {}) })).body.toString();
    for (const c of clients) {
      assert.equal(await ask(c, 'ana-1'), 'laptop:ana /x');
      assert.equal(await ask(c, 'bob-1'), 'laptop:bob /x');
    }
    await assert.rejects(suite.startSession({ injection, value: 'ana-1', developer: 'carol', localPort: bobLaptop.port }), (err) => {
      assert.equal(failureKind(err), 'claim-held');
      const f = (err as CoreError).failure;
      assert.ok(f.kind === 'claim-held' && f.holder === 'ana', JSON.stringify(f));
      return true;
    });
    // Bob stops while requests flow on every pod: none fails.
    let failures = 0;
    let done = false;
    const traffic = (async () => {
      for (let i = 0; !done && i < 5_000; i++) {
        const c = clients[i % clients.length]!;
        const text = await ask(c, i % 2 ? 'ana-1' : undefined).catch(() => 'failed');
        if (i % 2 ? text !== 'laptop:ana /x' : !text.startsWith('{')) failures++;
      }
    })();
    assert.equal(bob.state, 'active');
    const states: string[] = [];
    bob.on('state', (st) => states.push(st));
    await bob.stop();
    assert.deepEqual(states, ['stopping', 'stopped']);
    done = true;
    await traffic;
    assert.equal(failures, 0);
    for (const c of clients) {
      assert.equal((JSON.parse(await ask(c, 'bob-1')) as { pod: string }).pod, c.pod, "bob's header reaches the pods again");
      assert.equal(await ask(c, 'ana-1'), 'laptop:ana /x');
      c.http.close();
    }
  });

  const shapes: [string, AppShape][] = [
    ['a named targetPort', { targetPort: 'http' }],
    ['a numeric targetPort', { targetPort: 8080 }],
    ['an omitted targetPort', {}],
    [
      'a workload with sidecars of its own (first container, native sidecar)',
      {
        targetPort: 'http',
        before: [{ name: 'envoy', image: 'envoyproxy/envoy:v1', ports: [{ name: 'admin', containerPort: 15000 }] }],
        initContainers: [{ name: 'log-shipper', image: 'fluent-bit:3', restartPolicy: 'Always', ports: [{ containerPort: 15001 }] }],
        labels: { team: 'shop' },
        annotations: { 'example.com/owner': 'shop-team' },
      },
    ],
  ];
  for (const [label, shape] of shapes) {
    test(`restore equals the original for ${label}`, async () => {
      const { kc, ns } = suite;
      const name = `restore-${label.split(' ')[1]!.replace(/[^a-z]/g, '')}`;
      await createApp(kc, ns, name, { ...shape, containerPort: 8080 });
      const apps = kc.makeApiClient(AppsV1Api);
      const core = kc.makeApiClient(CoreV1Api);
      await rolledOut(name);
      const deploymentBefore = await apps.readNamespacedDeployment({ namespace: ns, name });
      const serviceBefore = await core.readNamespacedService({ namespace: ns, name });
      const inj = injector();
      const injection = await inj.inject({ namespace: ns, service: name, port: 8080 });
      const during = await apps.readNamespacedDeployment({ namespace: ns, name });
      assert.ok(during.spec!.template.spec!.containers.some((c) => c.name === 'intercept-proxy'));
      const sidecarPorts = new Set([injection.record.controlPort, injection.record.healthPort, injection.listenPort]);
      assert.deepEqual([...usedPorts(deploymentBefore.spec!.template)].filter((p) => sidecarPorts.has(p)), [], 'no port of the pod is taken');
      await inj.remove({ namespace: ns, service: name });
      const deploymentAfter = await apps.readNamespacedDeployment({ namespace: ns, name });
      const serviceAfter = await core.readNamespacedService({ namespace: ns, name });
      assert.deepEqual(comparable(deploymentAfter), comparable(deploymentBefore));
      assert.deepEqual(comparable(serviceAfter), comparable(serviceBefore));
      const left = (await core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata!.name!).filter((n) => n.includes(name));
      assert.deepEqual(left, [], 'no ConfigMap of this workload is left');
    });
  }

  test("another writer changes the Deployment and the Service during injection: their changes survive injection and removal", async () => {
    const { kc, ns, client, build } = suite;
    await createApp(kc, ns, 'busy', { targetPort: 'http' });
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    await rolledOut('busy');
    const inj = new Injector({
      client,
      build,
      onEvent: (e) => {
        // While the rollout runs, a teammate's deploy tool changes the app container and a label.
        if (e.kind === 'step' && e.step === 'rollout') writer = writeTheirChange();
      },
    });
    let writer: Promise<void> = Promise.resolve();
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
    const writeTheirChange = async () => {
      await apps.patchNamespacedDeployment(
        { namespace: ns, name: 'busy', body: { metadata: { labels: { release: 'r2' } }, spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'FEATURE', value: 'on' }] }] } } } }, fieldManager: 'their-deploy-tool' },
        strategic,
      );
      await core.patchNamespacedService({ namespace: ns, name: 'busy', body: { metadata: { annotations: { 'example.com/changed': 'yes' } } }, fieldManager: 'their-deploy-tool' }, strategic);
    };
    await inj.inject({ namespace: ns, service: 'busy', port: 8080 });
    await writer;
    const check = async (withSidecar: boolean) => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'busy' });
      const s = await core.readNamespacedService({ namespace: ns, name: 'busy' });
      assert.equal(d.metadata!.labels!.release, 'r2');
      assert.equal(JSON.stringify(d.spec!.template.spec!.containers.find((c) => c.name === 'app')!.env), JSON.stringify([{ name: 'FEATURE', value: 'on' }]));
      assert.equal(s.metadata!.annotations!['example.com/changed'], 'yes');
      assert.equal(d.spec!.template.spec!.containers.some((c) => c.name === 'intercept-proxy'), withSidecar);
    };
    await check(true);
    await inj.remove({ namespace: ns, service: 'busy' });
    await check(false);
  });

  test('refusals are typed and change nothing: no selector, a UDP port, a namespace where the user has no Role', async () => {
    const { kc, ns, build } = suite;
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'external-db' }, spec: { ports: [{ port: 5432 }] } } });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'dns' }, spec: { selector: { app: 'shop' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } } });
    const snapshot = async () => {
      const apps = kc.makeApiClient(AppsV1Api);
      return JSON.stringify({
        d: (await apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => [d.metadata!.name, d.metadata!.resourceVersion]),
        s: (await core.listNamespacedService({ namespace: ns })).items.map((s) => [s.metadata!.name, s.metadata!.resourceVersion]),
        // The claims ConfigMap of a running intercept is renewed every few seconds; its name counts.
        c: (await core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => [c.metadata!.name, c.metadata!.name!.startsWith('intercept-claims-') ? '' : c.metadata!.resourceVersion]),
      });
    };
    const before = await snapshot();
    await assert.rejects(injector().inject({ namespace: ns, service: 'external-db', port: 5432 }), (err) => {
      assert.equal(failureKind(err), 'not-interceptable');
      const f = (err as CoreError).failure;
      assert.ok(f.kind === 'not-interceptable' && f.reason === 'no-selector', JSON.stringify(f));
      return true;
    });
    await assert.rejects(injector().inject({ namespace: ns, service: 'dns', port: 53 }), (err) => {
      const f = (err as CoreError).failure;
      assert.ok(f.kind === 'not-interceptable' && f.reason === 'udp-port', JSON.stringify(f));
      return true;
    });
    const other = await createTestNamespace(kc, 'norole');
    suite.cleanup(() => deleteNamespace(kc, other));
    const devClient = new KubeClient(await kubeConfigForServiceAccount(kc, other, 'dev'));
    await assert.rejects(new Injector({ client: devClient, build }).inject({ namespace: ns, service: 'shop', port: 80 }), (err) => {
      assert.equal(failureKind(err), 'forbidden');
      const f = (err as CoreError).failure;
      assert.ok(f.kind === 'forbidden' && f.verb === 'get' && f.resource === 'services' && f.namespace === ns, JSON.stringify(f));
      return true;
    });
    assert.equal(await snapshot(), before, 'nothing changed in the cluster');
  });

  test('a NetworkPolicy that lets the app port in but not the sidecar port: refused before anything changes, naming the policy', async () => {
    const { kc, ns } = suite;
    await createApp(kc, ns, 'guarded', { targetPort: 'http' });
    await kc.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({
      namespace: ns,
      body: { metadata: { name: 'guarded-ingress' }, spec: { podSelector: { matchLabels: { app: 'guarded' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http' }] }] } },
    });
    const apps = kc.makeApiClient(AppsV1Api);
    // The spec and its writers, not the resourceVersion: the Deployment controller keeps writing the
    // status of the rollout that creating the app started.
    const specOf = async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'guarded' });
      return { generation: d.metadata!.generation, managers: (d.metadata!.managedFields ?? []).filter((f) => f.subresource !== 'status').map((f) => f.manager).sort() };
    };
    const before = await specOf();
    await assert.rejects(injector().inject({ namespace: ns, service: 'guarded', port: 8080 }), (err) => {
      const f = (err as CoreError).failure;
      assert.ok(f.kind === 'not-interceptable' && f.reason === 'network-policy', JSON.stringify(f));
      assert.match(f.message, /guarded-ingress/);
      assert.match(f.hint, /Add TCP port \d+ to the ingress rules of guarded-ingress/);
      return true;
    });
    assert.deepEqual(await specOf(), before, 'the workload is unchanged');
  });

  test('several Services selecting the same pods: only the intercepted one changes, and the sidecar stays while another still routes through it', async () => {
    const { kc, ns } = suite;
    await createApp(kc, ns, 'multi', { targetPort: 'http' });
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'multi-admin' }, spec: { selector: { app: 'multi' }, ports: [{ name: 'admin', port: 9000, targetPort: 'http' }] } } });
    const adminBefore = await core.readNamespacedService({ namespace: ns, name: 'multi-admin' });
    const inj = injector();
    await inj.inject({ namespace: ns, service: 'multi', port: 8080 });
    assert.equal((await core.readNamespacedService({ namespace: ns, name: 'multi-admin' })).metadata!.resourceVersion, adminBefore.metadata!.resourceVersion, 'the other Service is untouched');
    const second = await inj.inject({ namespace: ns, service: 'multi-admin', port: 9000 });
    assert.equal(second.reused, true, 'the same app port reuses the sidecar');
    const first = await inj.remove({ namespace: ns, service: 'multi' });
    assert.equal(first.removedSidecar, false, 'multi-admin still routes through the sidecar');
    const apps = kc.makeApiClient(AppsV1Api);
    assert.ok((await apps.readNamespacedDeployment({ namespace: ns, name: 'multi' })).spec!.template.spec!.containers.some((c) => c.name === 'intercept-proxy'));
    const last = await inj.remove({ namespace: ns, service: 'multi-admin' });
    assert.equal(last.removedSidecar, true);
    assert.deepEqual(comparable(await core.readNamespacedService({ namespace: ns, name: 'multi-admin' })), comparable(adminBefore));
  });
});
