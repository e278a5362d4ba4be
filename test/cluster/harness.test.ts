// The test cluster harness itself: a Deployment's pods become processes, a Service reaches them as
// kube-proxy would, a port-forward through the API server reaches a pod's process, and scaling down
// ends processes. Needs a running test cluster (test/cluster/run.mjs, or `npm run cluster:up`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import {
  PodRunner,
  createTestNamespace,
  deleteNamespace,
  isNotFound,
  kubeConfigForServiceAccount,
  loadKubeConfig,
  openPortForward,
  requestService,
  waitFor,
  waitForServiceEndpoints,
  httpOverStream,
  type RunningPod,
} from '../harness/cluster/index.js';
import { processAlive } from '../harness/cluster/kube.js';
import type { PortForwardError } from '../../src/core/kube/port-forward.js';
import { netnsExists } from '../harness/cluster/netns.js';

const APP = 'hello';
const APP_PORT = 8080;

void describe('test cluster harness', () => {
  let kc: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let ns: string;
  let runner: PodRunner | undefined;

  before(async () => {
    kc = loadKubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    ns = await createTestNamespace(kc, 'harness');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns, labelSelector: `app=${APP}` });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: APP },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: APP } },
          template: {
            metadata: { labels: { app: APP } },
            spec: { containers: [{ name: 'app', image: 'example.invalid/hello:1', ports: [{ name: 'http', containerPort: APP_PORT }] }] },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: APP },
        spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      },
    });
  });

  after(async () => {
    await runner?.stop();
    // The namespace controller finishes the deletion in the background; the processes are already gone.
    if (ns) await deleteNamespace(kc, ns, { wait: false });
  });

  let pods: RunningPod[] = [];

  void test('a 3-replica Deployment gets 3 Running pods, each with its own processes and loopback', async () => {
    pods = await runner!.waitForRunning(3, 90_000);
    const listed = await core.listNamespacedPod({ namespace: ns, labelSelector: `app=${APP}` });
    assert.equal(listed.items.filter((p) => p.status?.phase === 'Running').length, 3);
    assert.deepEqual(new Set(pods.map((p) => p.name)), new Set(listed.items.map((p) => p.metadata!.name)));
    assert.equal(new Set(pods.map((p) => p.netns)).size, 3, 'one network namespace per pod');
    for (const p of pods) {
      assert.equal(p.containers.length, 1);
      assert.ok(processAlive(p.containers[0]!.pid), `process of ${p.name} runs`);
      // 127.0.0.1:<app port> inside each pod is that pod's own app.
      const socket = await runner!.connect(p.name, APP_PORT);
      const res = await httpOverStream(socket, { path: '/who', headers: { host: 'pod' } }, `pod ${p.name}`);
      assert.equal((JSON.parse(res.body.toString()) as { pod: string }).pod, p.name);
    }
  });

  void test('requests to the Service reach all 3 pods', async () => {
    // As with kube-proxy, a pod gets traffic once its EndpointSlice lists it ready.
    const targets = await waitForServiceEndpoints(ns, APP, 80, 3, { kubeConfig: kc });
    assert.deepEqual(new Set(targets.map((t) => t.pod)), new Set(pods.map((p) => p.name)));
    const answered = new Set<string>();
    for (let i = 0; i < 12 && answered.size < 3; i++) {
      const res = await requestService(ns, APP, 80, { kubeConfig: kc, path: `/req-${i}` });
      assert.equal(res.status, 200);
      const body = JSON.parse(res.body.toString()) as { pod: string; url: string; port: number };
      assert.equal(body.pod, res.pod, 'the pod that answered is the pod the endpoint names');
      assert.equal(body.url, `/req-${i}`);
      assert.equal(body.port, APP_PORT);
      answered.add(body.pod);
    }
    assert.deepEqual(answered, new Set(pods.map((p) => p.name)));
  });

  void test('a port-forward through the API server reaches a pod and carries 10 MB both ways intact', async () => {
    const pod = pods[0]!;
    const socket = await openPortForward(kc, ns, pod.name, APP_PORT);
    const payload = randomBytes(10 * 1024 * 1024);
    const res = await httpOverStream(socket, { method: 'POST', path: '/echo', headers: { host: 'pod' }, body: payload, timeoutMs: 60_000 }, `pod ${pod.name}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-pod-name'], pod.name);
    assert.equal(res.body.length, payload.length);
    assert.equal(sha256(res.body), sha256(payload));
  });

  void test('RBAC is enforced: a ServiceAccount may do only what a Role grants it', async () => {
    const saKc = await kubeConfigForServiceAccount(kc, ns, 'reader');
    const saCore = saKc.makeApiClient(CoreV1Api);
    await assert.rejects(saCore.listNamespacedPod({ namespace: ns }), (err: unknown) => err instanceof ApiException && err.code === 403);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'pod-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const listed = await waitFor('the RoleBinding to take effect', () => saCore.listNamespacedPod({ namespace: ns }).catch(() => undefined));
    assert.equal(listed.items.length, 3);
    await assert.rejects(
      openPortForward(saKc, ns, pods[0]!.name, APP_PORT),
      (err: unknown) =>
        (err as PortForwardError).kind === 'forbidden' && /may not "create" "pods\/portforward" in namespace/.test((err as Error).message),
      'port-forward needs its own permission on pods/portforward, and the error says which',
    );
    await assert.rejects(openPortForward(kc, ns, 'no-such-pod', APP_PORT), (err: unknown) => (err as PortForwardError).kind === 'not-found');
  });

  void test('scaling to 1 stops the extra pods: processes, namespaces and PortForward objects', async () => {
    const before = runner!.running();
    await apps.patchNamespacedDeploymentScale(
      { namespace: ns, name: APP, body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const after = await runner!.waitForRunning(1, 60_000);
    const gone = before.filter((p) => p.name !== after[0]!.name);
    assert.equal(gone.length, 2);
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const p of gone) {
      for (const c of p.containers) assert.ok(!processAlive(c.pid), `process ${c.pid} of ${p.name} has ended`);
      assert.ok(!(await netnsExists(p.netns)), `namespace ${p.netns} is removed`);
      await waitFor(`PortForward ${p.name} to be deleted`, async () => {
        try {
          await custom.getNamespacedCustomObject({ group: 'kwok.x-k8s.io', version: 'v1alpha1', namespace: ns, plural: 'portforwards', name: p.name });
          return false;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      });
    }
    const res = await requestService(ns, APP, 80, { kubeConfig: kc });
    assert.equal(res.pod, after[0]!.name);
  });
});

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

