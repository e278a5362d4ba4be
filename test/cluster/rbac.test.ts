// A whole intercept as a ServiceAccount bound only to the Role in docs/rbac.md: inject, a tunnel per
// pod, a claimed and an unclaimed request, stop, remove. No ClusterRole is involved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RbacAuthorizationV1Api, loadYaml, type V1Role } from '@kubernetes/client-node';
import { kubeConfigForServiceAccount, repoRoot } from '../harness/cluster/index.js';
import { createApp, startLocalServer } from '../harness/cluster/apps.js';
import { clusterSuite } from '../harness/cluster/suite.js';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector } from '../../src/core/session/injector.js';

/** The first YAML block of docs/rbac.md: the Role the page documents. */
function documentedRole(): V1Role {
  const page = readFileSync(path.join(repoRoot, 'docs', 'rbac.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(page);
  assert.ok(block, 'docs/rbac.md has a yaml block');
  const role = loadYaml<V1Role>(block[1]!);
  assert.equal(role.kind, 'Role');
  return role;
}

void describe('RBAC: the documented Role is enough', () => {
  const suite = clusterSuite('rbac');

  test('inject, intercept, stop and remove as a ServiceAccount bound only to that Role', async () => {
    const { kc, ns, runner } = suite;
    const role = documentedRole();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: role });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'dev' },
        subjects: [{ kind: 'ServiceAccount', name: 'dev', namespace: ns }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name! },
      },
    });
    await createApp(kc, ns, 'shop', { replicas: 2, targetPort: 'http', servicePort: 80 });
    await runner.waitForRunning(2, 90_000);

    const client = new KubeClient(await kubeConfigForServiceAccount(kc, ns, 'dev'));
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
