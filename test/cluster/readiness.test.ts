// Readiness in the test cluster follows readiness probes: kwok leaves a pod with a readinessProbe
// Running but not Ready, the pod runner probes it inside the pod and writes its readiness, and the
// Deployment and EndpointSlice controllers follow. So a rollout really waits for new pods to be ready,
// as the injection's order (sidecar first, Service after) relies on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  PodRunner,
  createTestNamespace,
  deleteNamespace,
  httpOverStream,
  isNotFound,
  loadKubeConfig,
  serviceTargets,
  waitFor,
  waitForServiceEndpoints,
} from '../harness/cluster/index.js';

const APP = 'probed';
const APP_PORT = 8080;

const isReady = (p: V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

void describe('readiness from readiness probes', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let ns: string;
  let runner: PodRunner | undefined;
  let first = '';

  const readPod = (name: string) => core.readNamespacedPod({ namespace: ns, name });
  /** The Deployment's status once its controller has seen the current spec and `replicas` pods. */
  const settledDeployment = (replicas: number, check: (d: V1Deployment) => boolean = () => true) =>
    waitFor(`deployment ${APP} with ${replicas} pods, status current`, async () => {
      const d = await apps.readNamespacedDeployment({ namespace: ns, name: APP });
      const s = d.status;
      return s && s.observedGeneration === d.metadata!.generation && s.replicas === replicas && check(d) ? d : undefined;
    });
  /** Tells the app in the pod to pass or fail its readiness path. */
  const setAppReady = async (pod: string, ready: boolean) => {
    const p = await waitFor(`processes of pod ${pod}`, () => runner!.pod(pod));
    const socket = await runner!.connect(p.name, APP_PORT);
    const res = await httpOverStream(socket, { method: 'PUT', path: '/ready', headers: { host: 'pod' }, body: ready ? 'yes' : 'no' }, `pod ${pod}`);
    assert.equal(res.status, 204);
  };
  /** Waits until the EndpointSlices list the pod, ready or not (the controller has seen it). */
  const listedEndpoint = (pod: string) =>
    waitFor(`pod ${pod} in the EndpointSlices of ${APP}`, async () => {
      const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${APP}` });
      return slices.items.flatMap((s) => s.endpoints).find((e) => e.targetRef?.name === pod);
    });

  before(async () => {
    kc = loadKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    ns = await createTestNamespace(kc, 'readiness');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns, labelSelector: `app=${APP}` });
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: APP },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: APP } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: { labels: { app: APP } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'example.invalid/probed:1',
                  ports: [{ name: 'http', containerPort: APP_PORT }],
                  // The app starts failing its readiness path; the test says when it passes.
                  env: [{ name: 'APP_READY', value: 'no' }],
                  readinessProbe: { httpGet: { port: 'http', path: '/ready' }, periodSeconds: 1, failureThreshold: 1 },
                },
              ],
            },
          },
        },
      },
    });
    await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: APP }, spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    });
  });

  after(async () => {
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: false });
  });

  test('while its probe fails the pod is Running but not Ready, no ready endpoint, and not counted ready', async () => {
    first = (await runner!.waitForRunning(1, 60_000))[0]!.name;
    const endpoint = await listedEndpoint(first);
    assert.equal(endpoint.conditions?.ready, false, 'the EndpointSlice lists the pod as not ready');
    const pod = await readPod(first);
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(isReady(pod), false);
    assert.equal(pod.status?.containerStatuses?.find((c) => c.name === 'app')?.ready, false);
    assert.deepEqual(await serviceTargets(ns, APP, 80, { kubeConfig: kc }), [], 'no ready endpoint to send traffic to');
    const d = await settledDeployment(1);
    assert.equal(d.status?.readyReplicas ?? 0, 0);
  });

  test('when the probe passes the pod becomes Ready, an endpoint and a ready replica; when it fails again, none of these', async () => {
    await setAppReady(first, true);
    await waitFor(`pod ${first} Ready`, async () => isReady(await readPod(first)));
    assert.equal((await readPod(first)).status?.containerStatuses?.find((c) => c.name === 'app')?.ready, true);
    const targets = await waitForServiceEndpoints(ns, APP, 80, 1, { kubeConfig: kc });
    assert.equal(targets[0]!.pod, first);
    await settledDeployment(1, (d) => d.status?.readyReplicas === 1 && d.status.availableReplicas === 1);

    await setAppReady(first, false);
    await waitFor(`pod ${first} not Ready`, async () => !isReady(await readPod(first)));
    await waitForServiceEndpoints(ns, APP, 80, 0, { kubeConfig: kc });
    await settledDeployment(1, (d) => (d.status?.readyReplicas ?? 0) === 0);

    await setAppReady(first, true);
    await waitFor(`pod ${first} Ready again`, async () => isReady(await readPod(first)));
  });

  test('a rolling update with maxUnavailable 0 waits for the new pod to be ready before the old one goes', async () => {
    await settledDeployment(1, (d) => d.status?.availableReplicas === 1);
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: APP, body: { spec: { template: { metadata: { annotations: { 'intercept.test/revision': '2' } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const second = await waitFor('the new pod to run', () => runner!.running().find((p) => p.name !== first)?.name);
    await listedEndpoint(second);
    await settledDeployment(2, (d) => d.status?.updatedReplicas === 1);
    const fresh = await readPod(second);
    assert.equal(fresh.status?.phase, 'Running');
    assert.equal(isReady(fresh), false, 'the new pod fails its probe');
    const old = await readPod(first);
    assert.equal(old.metadata?.deletionTimestamp, undefined, 'the old pod stays while the new one is not ready');
    assert.ok(isReady(old));
    assert.deepEqual(
      (await serviceTargets(ns, APP, 80, { kubeConfig: kc })).map((t) => t.pod),
      [first],
      'traffic still goes to the old pod only',
    );

    await setAppReady(second, true);
    await waitFor(`old pod ${first} to be deleted`, async () => {
      try {
        await readPod(first);
        return false;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    });
    const d = await settledDeployment(1, (x) => x.status?.updatedReplicas === 1 && x.status.availableReplicas === 1);
    assert.equal(d.status?.readyReplicas, 1);
    const targets = await waitForServiceEndpoints(ns, APP, 80, 1, { kubeConfig: kc });
    assert.equal(targets[0]!.pod, second);
    const pods = await runner!.waitForRunning(1, 30_000);
    assert.equal(pods[0]!.name, second);
  });
});
