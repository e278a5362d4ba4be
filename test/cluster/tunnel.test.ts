// The sidecar and the tunnel in a real cluster: pods whose spec carries the intercept-proxy container
// (written here by hand, as the extension will inject it: the built sidecar in a ConfigMap mounted at
// /intercept), a Service pointed at the sidecar's port, and one tunnel per pod through the API
// server's pod port-forward to the loopback-only control port.
// With the header, requests on every replica reach the developer's local server; without it, the pods.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  PodRunner,
  createTestNamespace,
  deleteNamespace,
  loadKubeConfig,
  openPortForward,
  requestService,
  waitForServiceEndpoints,
  repoRoot,
  type RunningPod,
} from '../harness/cluster/index.js';
import { TunnelClient } from '../../src/core/tunnel/tunnel-client.js';
import type { TunnelError } from '../../src/core/tunnel/errors.js';
import { SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../../src/protocol/constants.js';

const APP = 'shop';
const APP_PORT = 8080;
const SIDECAR_PORT = 8081;
const CONTROL_PORT = 15000;
const HEADER = { 'x-intercept-id': 'ana-4f2c' };

void describe('sidecar and tunnel in the cluster', () => {
  let kc: KubeConfig;
  let ns: string;
  let runner: PodRunner | undefined;
  let pods: RunningPod[] = [];
  let local: http.Server;
  let localPort = 0;
  const tunnels: TunnelClient[] = [];

  before(async () => {
    kc = loadKubeConfig();
    ns = await createTestNamespace(kc, 'tunnel');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns, labelSelector: `app=${APP}` });
    const sidecarCode = readFileSync(path.join(repoRoot, 'proxy-image', 'dist', 'intercept-proxy.js'), 'utf8');
    await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'intercept-proxy' }, data: { 'intercept-proxy.js': sidecarCode } },
    });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: APP },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: APP } },
          template: {
            metadata: { labels: { app: APP } },
            spec: {
              volumes: [{ name: 'intercept-proxy', configMap: { name: 'intercept-proxy' } }],
              containers: [
                { name: 'app', image: 'example.invalid/shop:1', ports: [{ name: 'http', containerPort: APP_PORT }] },
                {
                  name: 'intercept-proxy',
                  image: 'node:20-bookworm-slim',
                  command: ['node', ...SIDECAR_NODE_ARGS, '/intercept/intercept-proxy.js'],
                  args: ['--listen', `${SIDECAR_PORT}:${APP_PORT}`, '--control-port', String(CONTROL_PORT), '--grace', '2'],
                  env: Object.entries(SIDECAR_ENV).map(([name, value]) => ({ name, value })),
                  ports: [{ name: 'intercept', containerPort: SIDECAR_PORT }],
                  volumeMounts: [{ name: 'intercept-proxy', mountPath: '/intercept', readOnly: true }],
                },
              ],
            },
          },
        },
      },
    });
    await kc.makeApiClient(CoreV1Api).createNamespacedService({
      namespace: ns,
      body: { metadata: { name: APP }, spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 'intercept' }] } },
    });
    pods = await runner.waitForRunning(2, 90_000);
    await waitForServiceEndpoints(ns, APP, 80, 2, { kubeConfig: kc });
    local = http.createServer((req, res) => res.end(`ana-laptop ${req.url}`));
    local.listen(0, '127.0.0.1');
    await once(local, 'listening');
    localPort = (local.address() as AddressInfo).port;
  });

  after(async () => {
    await Promise.all(tunnels.map((t) => t.close()));
    local?.close();
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: true });
  });

  test('routes the header on every replica to the local server, and everything else to the pods', async () => {
    for (const pod of pods) {
      const tunnel = new TunnelClient({
        dial: () => openPortForward(kc, ns, pod.name, CONTROL_PORT),
        claim: { header: 'x-intercept-id', value: 'ana-4f2c' },
        developer: 'ana',
        local: { host: '127.0.0.1', port: localPort },
      });
      await tunnel.start();
      tunnels.push(tunnel);
    }
    for (const pod of pods) {
      const mine = await requestService(ns, APP, 80, { kubeConfig: kc, pod: pod.name, path: '/cart', headers: HEADER });
      assert.equal(mine.status, 200);
      assert.equal(mine.body.toString(), 'ana-laptop /cart', `pod ${pod.name} sends the header down its tunnel`);
      const theirs = await requestService(ns, APP, 80, { kubeConfig: kc, pod: pod.name, path: '/cart' });
      assert.equal(theirs.status, 200);
      assert.equal((JSON.parse(theirs.body.toString()) as { pod: string }).pod, pod.name, 'without the header the pod answers');
    }
  });

  test('a tunnel to a pod port where nothing listens fails with a reason, and retrying is left to the caller', async () => {
    const tunnel = new TunnelClient({
      dial: () => openPortForward(kc, ns, pods[0]!.name, 15999),
      claim: { header: 'x-intercept-id', value: 'nobody-1' },
      developer: 'nobody',
      local: { host: '127.0.0.1', port: localPort },
      handshakeTimeoutMs: 20_000,
    });
    // Checked by shape: this ES module and the CommonJS core may load the class twice.
    await assert.rejects(tunnel.start(), (err: unknown) => {
      const e = err as TunnelError;
      assert.equal(e.name, 'TunnelError', String(err));
      assert.equal(e.failure.kind, 'unreachable');
      assert.match(e.message, /forward not found for port 15999|error forwarding port 15999/);
      assert.equal(e.final, false);
      return true;
    });
  });

  test('after the tunnels close, the header reaches the pods again', async () => {
    await Promise.all(tunnels.splice(0).map((t) => t.close()));
    for (const pod of pods) {
      const r = await requestService(ns, APP, 80, { kubeConfig: kc, pod: pod.name, path: '/cart', headers: HEADER });
      assert.equal((JSON.parse(r.body.toString()) as { pod: string }).pod, pod.name);
    }
  });
});
