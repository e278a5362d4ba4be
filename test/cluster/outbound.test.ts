// Outbound calls through the pod, in the cluster: with the proxy injected with outbound streams on, a
// developer who holds a claim opens a connection that the sidecar dials from inside the pod (the
// pod's network: here the app's own port on the pod's loopback, which nothing outside the pod can
// reach), through the API server's port-forward. Without the claim it is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OutboundClient } from '../../src/core/outbound/outbound-client.js';
import type { OutboundError } from '../../src/core/outbound/outbound-error.js';
import { openPortForward } from '../../src/core/kube/port-forward.js';
import { Injector } from '../../src/core/session/injector.js';
import { createApp, startLocalServer } from '../harness/cluster/apps.js';
import { httpOverStream } from '../harness/cluster/service.js';
import { clusterSuite } from '../harness/cluster/suite.js';

void describe('outbound calls through the pod', () => {
  const suite = clusterSuite('outbound');

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

    const outbound = new OutboundClient({ dial, lease: session.lease });
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
});
