// Pod volumes in the test cluster: the pod runner writes configMap and secret volumes from the API
// server's objects and a container sees them at its mountPaths, so a sidecar runs from the ConfigMap
// its pod mounts (not from a file of this repository); a ConfigMap update reaches a running pod; a
// pod whose ConfigMap is missing does not start until it exists, as with a kubelet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Pod, type V1Volume, type V1VolumeMount } from '@kubernetes/client-node';
import { PodRunner, createTestNamespace, deleteNamespace, httpOverStream, loadKubeConfig, waitFor } from '../harness/cluster/index.js';

const LABEL = 'volumes';
const PORT = 9090;

/** A tiny server that says which code runs: the marker exists only in the ConfigMap. */
function serverScript(marker: string): string {
  return `import http from 'node:http';
import { readFileSync } from 'node:fs';
const read = (name) => (process.env[name] ? readFileSync(process.env[name], 'utf8') : null);
const port = Number(process.argv[process.argv.indexOf('--listen-port') + 1]);
http.createServer((req, res) => {
  res.end(JSON.stringify({ marker: ${JSON.stringify(marker)}, message: read('MESSAGE_FILE'), greeting: read('GREETING_FILE'), token: read('TOKEN_FILE') }));
}).listen(port, '127.0.0.1');
`;
}

interface Answer {
  marker: string;
  message: string | null;
  greeting: string | null;
  token: string | null;
}

/**
 * A pod whose intercept-proxy container runs server.mjs from ConfigMap `code` mounted at /intercept;
 * with `withSecret`, Secret `token` at /var/run/secrets/demo (key at nested/token) and the
 * ConfigMap's message.txt again through a subPath mount at /etc/greeting.txt.
 */
function podWithCode(name: string, code: string, withSecret = false): V1Pod {
  const env = [{ name: 'MESSAGE_FILE', value: '/intercept/message.txt' }];
  const volumes: V1Volume[] = [{ name: 'code', configMap: { name: code } }];
  const volumeMounts: V1VolumeMount[] = [{ name: 'code', mountPath: '/intercept', readOnly: true }];
  if (withSecret) {
    volumes.push({ name: 'token', secret: { secretName: 'token', defaultMode: 0o400, items: [{ key: 'token', path: 'nested/token' }] } });
    volumeMounts.push(
      { name: 'token', mountPath: '/var/run/secrets/demo', readOnly: true },
      { name: 'code', mountPath: '/etc/greeting.txt', subPath: 'message.txt' },
    );
    env.push({ name: 'TOKEN_FILE', value: '/var/run/secrets/demo/nested/token' }, { name: 'GREETING_FILE', value: '/etc/greeting.txt' });
  }
  return {
    metadata: { name, labels: { test: LABEL } },
    spec: {
      volumes,
      containers: [
        {
          name: 'intercept-proxy',
          image: 'node:20-bookworm-slim',
          command: ['node', '/intercept/server.mjs'],
          args: ['--listen-port', String(PORT)],
          env,
          volumeMounts,
        },
      ],
    },
  };
}

void describe('pod volumes from ConfigMaps and Secrets', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: string;
  let runner: PodRunner | undefined;
  const marker = `marker-${randomBytes(6).toString('hex')}`;
  const token = `token-${randomBytes(6).toString('hex')}`;

  const ask = async (pod: string): Promise<Answer> => {
    const socket = await runner!.connect(pod, PORT);
    const res = await httpOverStream(socket, { path: '/', headers: { host: 'pod' } }, `pod ${pod}`);
    return JSON.parse(res.body.toString()) as Answer;
  };

  before(async () => {
    kc = loadKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    ns = await createTestNamespace(kc, 'volumes');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns, labelSelector: `test=${LABEL}` });
  });

  after(async () => {
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: false });
  });

  test('the sidecar runs the code of the ConfigMap its pod mounts and reads a Secret at its mount path', async () => {
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'code' }, data: { 'server.mjs': serverScript(marker), 'message.txt': 'first' } },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'token' }, data: { token: Buffer.from(token).toString('base64') } },
    });
    await core.createNamespacedPod({
      namespace: ns,
      body: podWithCode('reader', 'code', true),
    });
    const [pod] = await runner!.waitForRunning(1, 60_000);
    assert.equal(pod!.name, 'reader');
    const answer = await ask('reader');
    assert.equal(answer.marker, marker, 'the process runs the script the ConfigMap holds');
    assert.equal(answer.message, 'first');
    assert.equal(answer.greeting, 'first', 'a subPath mount sees the one key');
    assert.equal(answer.token, token, "the Secret's key is at its items path under the mountPath");
  });

  test("an update of the ConfigMap reaches the running pod's volume, but not a subPath mount", async () => {
    await core.replaceNamespacedConfigMap({
      namespace: ns,
      name: 'code',
      body: { metadata: { name: 'code' }, data: { 'server.mjs': serverScript(marker), 'message.txt': 'second' } },
    });
    const answer = await waitFor('the new message in the mounted ConfigMap', async () => {
      const a = await ask('reader');
      return a.message === 'second' ? a : undefined;
    }, { timeoutMs: 15_000, everyMs: 200 });
    assert.equal(answer.greeting, 'first', 'a subPath mount keeps what it had when the container started');
  });

  test('a pod whose ConfigMap is missing does not start and is reported; it starts once the ConfigMap exists', async () => {
    await core.createNamespacedPod({ namespace: ns, body: podWithCode('late', 'late-code') });
    const failure = await waitFor('the runner to report pod late', () => runner!.failures().find((f) => f.pod === 'late'));
    assert.match(failure.error.message, /configmap "late-code" not found/);
    assert.equal(failure.retrying, true);
    const waiting = await waitFor('pod late to report its container waiting', async () => {
      const p = await core.readNamespacedPod({ namespace: ns, name: 'late' });
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w ? { pod: p, waiting: w } : undefined;
    });
    assert.equal(waiting.waiting.reason, 'ContainerCreating');
    assert.equal(waiting.pod.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(runner!.pod('late'), undefined, 'no process runs for it');

    const lateMarker = `late-${randomBytes(6).toString('hex')}`;
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'late-code' }, data: { 'server.mjs': serverScript(lateMarker), 'message.txt': 'late' } },
    });
    const pods = await runner!.waitForRunning(2, 30_000);
    assert.deepEqual(pods.map((p) => p.name).sort(), ['late', 'reader']);
    assert.equal((await ask('late')).marker, lateMarker);
    assert.deepEqual(runner!.failures(), []);
    await waitFor('pod late to be Ready', async () => {
      const p = await core.readNamespacedPod({ namespace: ns, name: 'late' });
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && p.status.containerStatuses?.[0]?.state?.running;
    });
  });
});
