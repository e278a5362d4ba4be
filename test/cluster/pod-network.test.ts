// The test cluster's pod network, seen from inside a pod as a workload sees it: Service ClusterIPs
// routed by kube-proxy to ready endpoints only, cluster DNS names answered by CoreDNS, pod-to-pod
// traffic with the pod's own loopback private, and raw TCP through a Service. Every request here is
// made by a process in pod A's network namespace (socat, node), never by the harness's own routing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Container } from '@kubernetes/client-node';
import {
  PodRunner,
  connectInNetns,
  createTestNamespace,
  deleteNamespace,
  httpOverStream,
  loadKubeConfig,
  waitFor,
  waitForServiceEndpoints,
  type RunningPod,
} from '../harness/cluster/index.js';
import { createLineEchoApp, exchangeLine } from '../harness/cluster/apps.js';
import { processAlive } from '../harness/cluster/kube.js';
import { listeningPorts, lookupInNetns } from '../harness/cluster/netns.js';

const APP_PORT = 8080;
/** b's app keeps serving this long after SIGTERM, so a removed pod could still answer if routed to. */
const B_SHUTDOWN_DELAY_MS = 25_000;

interface Answer {
  pod: string;
  url: string;
  remoteAddress: string;
}

/** The test app on port `http`, with a readiness probe unless `probe` is false. */
function app(env: Record<string, string> = {}, probe = true): V1Container {
  return {
    name: 'app',
    image: 'registry.example/app:1',
    ports: [{ name: 'http', containerPort: APP_PORT }],
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    ...(probe ? { readinessProbe: { httpGet: { path: '/ready', port: 'http' as never }, periodSeconds: 1 } } : {}),
  };
}

/** GET <path> from inside `from`'s namespace to host:port; the answering app's JSON. */
async function getFrom(from: RunningPod, host: string, port: number, path = '/'): Promise<Answer> {
  const socket = await connectInNetns(from.netns, port, { host, timeoutMs: 5_000 });
  const res = await httpOverStream(socket, { path, headers: { host: `${host}:${port}` }, timeoutMs: 5_000 }, `${host}:${port} from ${from.name}`);
  assert.equal(res.status, 200);
  return JSON.parse(res.body.toString()) as Answer;
}

/** Sends one line over a raw TCP connection from inside `from`'s namespace; the line that comes back. */
async function lineFrom(from: RunningPod, host: string, port: number, text: string): Promise<string> {
  return exchangeLine(await connectInNetns(from.netns, port, { host, timeoutMs: 5_000 }), text, `${host}:${port} from ${from.name}`);
}

void describe("the test cluster's pod network", () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let ns: string;
  let runner: PodRunner | undefined;
  let client: RunningPod;
  let bIP: string;
  let readyB: Set<string>;

  const scaleB = (replicas: number) =>
    apps.patchNamespacedDeploymentScale({ namespace: ns, name: 'b', body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  const runningB = () => runner!.running().filter((p) => p.name.startsWith('b-') && p.name !== 'b-unready');

  before(async () => {
    kc = loadKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    ns = await createTestNamespace(kc, 'podnet');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns });
    const deployment = (name: string, replicas: number, container: V1Container, grace = 5) =>
      apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [container], terminationGracePeriodSeconds: grace } },
          },
        },
      });
    // Pod A, the client; Service b over two ready replicas and one that never gets ready; Service echo
    // over a raw TCP (line) server.
    await deployment('client', 1, app({}, false));
    await deployment('b', 2, app({ APP_SHUTDOWN_DELAY_MS: String(B_SHUTDOWN_DELAY_MS) }), 30);
    await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'b-unready', labels: { app: 'b' } }, spec: { containers: [app({ APP_READY: 'no' })], terminationGracePeriodSeconds: 5 } },
    });
    const b = await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'b' }, spec: { selector: { app: 'b' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } },
    });
    bIP = b.spec!.clusterIP!;
    await createLineEchoApp(kc, ns, 'echo', { servicePort: 7000 });
    await runner.waitForRunning(5, 90_000);
    client = runner.running().find((p) => p.name.startsWith('client-'))!;
    assert.ok(client, 'pod A (client) runs');
  });

  after(async () => {
    // b's apps would serve on for B_SHUTDOWN_DELAY_MS after SIGTERM; nothing here needs that any more.
    for (const p of runner ? runningB() : []) process.kill(p.containers[0]!.pid, 'SIGKILL');
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: false });
  });

  void test("from a pod, HTTP to a Service's ClusterIP reaches its ready pods, spread over them; a pod that is not ready gets none", async () => {
    readyB = new Set((await waitForServiceEndpoints(ns, 'b', 80, 2, { kubeConfig: kc, timeoutMs: 60_000 })).map((t) => t.pod));
    assert.ok(!readyB.has('b-unready'));
    // The unready pod's app runs and answers at its pod IP: only readiness keeps the Service from it.
    assert.equal((await getFrom(client, runner!.pod('b-unready')!.ip, APP_PORT)).pod, 'b-unready');

    // kube-proxy follows the EndpointSlices within its sync period: the first answer is awaited.
    await waitFor('a first answer through the ClusterIP', () => getFrom(client, bIP, 80).catch(() => undefined), { timeoutMs: 30_000, everyMs: 200 });
    const answered = new Map<string, number>();
    for (let i = 0; i < 100 && (answered.size < readyB.size || i < 20); i++) {
      const a = await getFrom(client, bIP, 80, `/req-${i}`);
      assert.equal(a.url, `/req-${i}`);
      assert.equal(a.remoteAddress, client.ip, "the endpoint sees pod A's own address (no masquerading inside the pod network)");
      answered.set(a.pod, (answered.get(a.pod) ?? 0) + 1);
    }
    assert.deepEqual(new Set(answered.keys()), readyB, `answered: ${JSON.stringify([...answered])}`);
  });

  void test('cluster DNS names resolve to the ClusterIP inside a pod (full, namespaced and short); an unknown name is NXDOMAIN at once', async () => {
    for (const name of [`b.${ns}.svc.cluster.local`, `b.${ns}`, 'b']) {
      assert.deepEqual(await lookupInNetns(client.netns, name), { addresses: [bIP] }, name);
    }
    const started = Date.now();
    assert.deepEqual(await lookupInNetns(client.netns, 'no-such-service'), { code: 'ENOTFOUND' }, 'NXDOMAIN, not a resolver failure');
    assert.ok(Date.now() - started < 4_000, `answered without a resolver timeout (took ${Date.now() - started} ms)`);
    // By name, as a workload connects.
    assert.ok(readyB.has((await getFrom(client, 'b', 80)).pod));
  });

  void test('a pod started after the Service exists gets traffic once ready; a deleted pod gets none while it still runs', async () => {
    const before = new Set(runningB().map((p) => p.name));
    await scaleB(3);
    await runner!.waitForRunning(6, 90_000);
    const added = runningB().filter((p) => !before.has(p.name));
    assert.equal(added.length, 1);
    const fresh = added[0]!;
    await waitFor(`${fresh.name} to answer through the ClusterIP`, async () => (await getFrom(client, bIP, 80).catch(() => undefined))?.pod === fresh.name, {
      timeoutMs: 30_000,
      everyMs: 0,
    });

    const three = runningB();
    await scaleB(2);
    const victim = await waitFor('the pod the scale-down deletes', async () => {
      const left = new Set((await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=b' })).items.map((p) => p.metadata!.name!));
      const gone = three.filter((p) => !left.has(p.name));
      return gone.length === 1 ? gone[0] : undefined;
    });
    // Its app goes on serving after SIGTERM; kube-proxy alone must stop sending to it. Rounds of 30
    // requests until one has none for it (bounded); every request must succeed meanwhile.
    const deadline = Date.now() + 15_000;
    for (;;) {
      let hits = 0;
      for (let i = 0; i < 30; i++) if ((await getFrom(client, bIP, 80)).pod === victim.name) hits += 1;
      if (hits === 0) break;
      assert.ok(Date.now() < deadline, `${victim.name} still got ${hits} of 30 requests 15 s after its deletion`);
    }
    assert.ok(processAlive(victim.containers[0]!.pid), `${victim.name}'s app still runs`);
    assert.equal((await getFrom(client, victim.ip, APP_PORT)).pod, victim.name, 'and still answers at its pod IP');
    // Done with it: no need to wait out its shutdown delay.
    process.kill(victim.containers[0]!.pid, 'SIGKILL');
  });

  void test("pod-to-pod traffic reaches the other pod's address; what listens on its 127.0.0.1 only does not", async () => {
    // A pod the Service lists as ready now (not one the scale-down above is ending).
    const [endpoint] = await waitForServiceEndpoints(ns, 'b', 80, 2, { kubeConfig: kc, timeoutMs: 30_000 });
    const target = runner!.pod(endpoint!.pod)!;
    const a = await getFrom(client, target.ip, APP_PORT);
    assert.equal(a.pod, target.name);
    assert.equal(a.remoteAddress, client.ip);

    const port = 9099;
    const listener = spawn('ip', ['netns', 'exec', target.netns, 'socat', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, 'EXEC:echo loopback-only'], {
      stdio: 'ignore',
    });
    const exited = once(listener, 'exit');
    try {
      await waitFor(`the loopback-only listener in ${target.name}`, async () => (await listeningPorts(target.netns)).has(port));
      const own = await connectInNetns(target.netns, port);
      const [line] = (await once(own, 'data')) as [Buffer];
      own.destroy();
      assert.equal(line.toString(), 'loopback-only\n', 'it answers inside its own pod');
      await assert.rejects(connectInNetns(client.netns, port, { host: target.ip }), /Connection refused/, 'not at the pod IP from pod A');
      await assert.rejects(connectInNetns(client.netns, port), /Connection refused/, "pod A's 127.0.0.1 is pod A's own");
    } finally {
      listener.kill();
      await exited;
    }
  });

  void test('a raw TCP (line protocol) server in a pod answers through its Service, by ClusterIP and by name', async () => {
    const [endpoint] = await waitForServiceEndpoints(ns, 'echo', 7000, 1, { kubeConfig: kc, timeoutMs: 60_000 });
    const echoIP = (await core.readNamespacedService({ namespace: ns, name: 'echo' })).spec!.clusterIP!;
    const first = await waitFor('a first line through the ClusterIP', () => lineFrom(client, echoIP, 7000, 'first').catch(() => undefined), {
      timeoutMs: 30_000,
      everyMs: 200,
    });
    assert.equal(first, `${endpoint!.pod} first`);
    for (const host of ['echo', `echo.${ns}.svc.cluster.local`]) {
      assert.equal(await lineFrom(client, host, 7000, `hello via ${host}`), `${endpoint!.pod} hello via ${host}`);
    }
  });
});
