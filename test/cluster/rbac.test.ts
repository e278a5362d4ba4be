// A whole intercept as a ServiceAccount bound only to the Role in docs/rbac.md: inject, a tunnel per
// pod, a claimed and an unclaimed request, stop, remove. No ClusterRole is involved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { developerWithDocumentedRole } from '../harness/cluster/rbac.js';
import { createApp, startLocalServer } from '../harness/cluster/apps.js';
import { clusterSuite } from '../harness/cluster/suite.js';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector } from '../../src/core/session/injector.js';

void describe('RBAC: the documented Role is enough', () => {
  const suite = clusterSuite('rbac');

  test('inject, intercept, stop and remove as a ServiceAccount bound only to that Role', async () => {
    const { kc, ns, runner } = suite;
    await createApp(kc, ns, 'shop', { replicas: 2, targetPort: 'http', servicePort: 80 });
    await runner.waitForRunning(2, 90_000);

    const client = new KubeClient(await developerWithDocumentedRole(kc, ns, 'dev'));
    const injector = new Injector({ client, build: suite.build });
    const injection = await injector.inject({ namespace: ns, service: 'shop', port: 80 });
    const laptop = await startLocalServer('dev');
    suite.cleanup(laptop.close);
    const session = await suite.startSession({ client, injection, value: 'dev-1', developer: 'dev', localPort: laptop.port });
    assert.equal(session.pods().size, 2);

    for (const { pod, http } of await suite.perPod('shop', 80, 2)) {
      assert.equal((await http.request('GET', '/a', { host: 'shop', 'x-intercept-id': 'dev-1' })).body.toString(), 'laptop:dev /a');
      assert.equal((JSON.parse((await http.request('GET', '/b', { host: 'shop' })).body.toString()) as { pod: string }).pod, pod);
      http.close();
    }
    await session.stop();
    const removed = await injector.remove({ namespace: ns, service: 'shop' });
    assert.equal(removed.removedSidecar, true);
  });
});
