// Outbound calls through the pod, in the cluster: with the proxy injected with outbound streams on, a
// developer who holds a claim opens a connection that the sidecar dials from inside the pod (the
// pod's network: the app's own port on the pod's loopback, which nothing outside the pod can reach;
// Services by their cluster DNS names, through the cluster's kube-proxy and CoreDNS), through the API
// server's port-forward. Without the claim it is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundClient } from '../../src/core/outbound/outbound-client.js';
import type { OutboundError } from '../../src/core/outbound/outbound-error.js';
import { openPortForward } from '../../src/core/kube/port-forward.js';
import { Injector } from '../../src/core/session/injector.js';
import { createApp, createLineEchoApp, exchangeLine, startLocalServer } from '../harness/cluster/apps.js';
import { waitFor } from '../harness/cluster/kube.js';
import { httpOverStream, waitForServiceEndpoints } from '../harness/cluster/service.js';
import { clusterSuite } from '../harness/cluster/suite.js';

void describe('outbound calls through the pod', () => {
  const suite = clusterSuite('outbound');
  let outbound: OutboundClient;
  let sidecarPod: string;

  test('a claim holder reaches the pod\'s own loopback through the sidecar; a lease without a claim is refused', async () => {
    const { kc, ns, runner, client } = suite;
    await createApp(kc, ns, 'orders', { replicas: 1, targetPort: 'http', servicePort: 80 });
    await runner.waitForRunning(1, 90_000);
    const injection = await new Injector({ client, build: suite.build, outbound: true }).inject({ namespace: ns, service: 'orders', port: 80 });
    assert.equal(injection.record.outbound, true);
    const laptop = await startLocalServer('ana');
    suite.cleanup(laptop.close);
    const session = await suite.startSession({ injection, value: 'ana-1', developer: 'ana', localPort: laptop.port });
    const [pod] = [...session.pods().keys()];
    assert.ok(pod);
    const dial = () => openPortForward(client.apiServerAccess(), ns, pod, injection.record.controlPort);

    sidecarPod = pod;
    outbound = new OutboundClient({ dial, lease: session.lease });
    suite.cleanup(() => outbound.close());
    await outbound.start();
    const stream = await outbound.open('127.0.0.1', injection.appPort);
    const res = await httpOverStream(stream, { path: '/from-the-laptop', headers: { host: 'localhost' } }, 'the app through the sidecar');
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body.toString()) as { pod: string }).pod, pod, 'dialed inside that pod');

    const stranger = new OutboundClient({ dial, lease: 'not-a-lease-of-any-claim-here' });
    suite.cleanup(() => stranger.close());
    // By name, not instanceof: this ESM test and the core's CommonJS modules load the class twice.
    await assert.rejects(stranger.start(), (err: unknown) => (err as OutboundError).name === 'OutboundError' && (err as OutboundError).reason === 'no-claim');
  });

  test('a claim holder reaches Services by their cluster names and a raw TCP server in another pod; a name the cluster does not know fails, naming it', async () => {
    const { kc, ns, runner } = suite;
    await createApp(kc, ns, 'inventory', { replicas: 1, targetPort: 'http', servicePort: 80 });
    await createLineEchoApp(kc, ns, 'echo', { servicePort: 7000 });
    const [inventory] = await waitForServiceEndpoints(ns, 'inventory', 80, 1, { kubeConfig: kc, timeoutMs: 60_000 });
    const [echo] = await waitForServiceEndpoints(ns, 'echo', 7000, 1, { kubeConfig: kc, timeoutMs: 60_000 });
    const get = async (host: string): Promise<{ pod: string; remoteAddress: string }> => {
      const stream = await outbound.open(host, 80);
      const res = await httpOverStream(stream, { path: '/by-name', headers: { host } }, `${host}:80 through the sidecar`);
      assert.equal(res.status, 200);
      return JSON.parse(res.body.toString()) as { pod: string; remoteAddress: string };
    };

    // kube-proxy programs a new Service within its sync period: the first answer is awaited.
    const full = `inventory.${ns}.svc.cluster.local`;
    const first = await waitFor(`${full}:80 through the sidecar`, () => get(full).catch(() => undefined), { timeoutMs: 30_000, everyMs: 200 });
    assert.equal(first.pod, inventory!.pod);
    assert.equal(first.remoteAddress, runner.pod(sidecarPod)!.ip, "dialed from the sidecar's pod");
    assert.equal((await get('inventory')).pod, inventory!.pod, "the short name, in the pod's namespace");

    const line = await waitFor('echo:7000 through the sidecar', async () => exchangeLine(await outbound.open('echo', 7000), 'over the tunnel', 'echo:7000').catch(() => undefined), {
      timeoutMs: 30_000,
      everyMs: 200,
    });
    assert.equal(line, `${echo!.pod} over the tunnel`);

    await assert.rejects(outbound.open('no-such-service', 80), (err: unknown) => {
      const e = err as OutboundError;
      assert.equal(e.name, 'OutboundError');
      assert.equal(e.reason, 'dns-failure');
      assert.equal(e.errno, 'ENOTFOUND', "the cluster's DNS answered that the name does not exist");
      assert.match(e.message, /no-such-service:80/);
      return true;
    });
  });
});
