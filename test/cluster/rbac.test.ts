// A whole intercept as a ServiceAccount bound only to the Role in docs/rbac.md: inject, a tunnel per
// pod, a claimed and an unclaimed request, stop, remove. No ClusterRole is involved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api, loadYaml, type KubeConfig, type V1Role } from '@kubernetes/client-node';
import {
  PodRunner,
  connectService,
  createTestNamespace,
  deleteNamespace,
  kubeConfigForServiceAccount,
  loadKubeConfig,
  repoRoot,
  waitForServiceEndpoints,
} from '../harness/cluster/index.js';
import { createApp, startLocalServer } from '../harness/cluster/apps.js';
import { KeepAliveClient } from '../harness/cluster/keep-alive.js';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector } from '../../src/core/session/injector.js';
import { InterceptSession } from '../../src/core/session/intercept-session.js';
import { loadSidecarBuild } from '../../src/core/session/sidecar-build.js';

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
  let kc: KubeConfig;
  let ns: string;
  let runner: PodRunner | undefined;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    kc = loadKubeConfig();
    ns = await createTestNamespace(kc, 'rbac');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns });
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: true });
  });

  test('inject, intercept, stop and remove as a ServiceAccount bound only to that Role', async () => {
    const role = documentedRole();
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: role });
    await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'dev' } } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'dev' },
        subjects: [{ kind: 'ServiceAccount', name: 'dev', namespace: ns }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name! },
      },
    });
    await createApp(kc, ns, 'shop', { replicas: 2, targetPort: 'http', servicePort: 80 });
    await runner!.waitForRunning(2, 90_000);

    const client = new KubeClient(await kubeConfigForServiceAccount(kc, ns, 'dev'));
    const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const build = await loadSidecarBuild(path.join(repoRoot, 'proxy-image', 'dist', 'intercept-proxy.js'), version);
    const injector = new Injector({ client, build });
    const injection = await injector.inject({ namespace: ns, service: 'shop', port: 80 });
    const laptop = await startLocalServer('dev');
    cleanups.push(laptop.close);
    const session = new InterceptSession({ client, injection, claim: { header: 'x-intercept-id', value: 'dev-1' }, developer: 'dev', local: { host: '127.0.0.1', port: laptop.port } });
    await session.start();
    cleanups.push(() => session.stop());
    assert.equal(session.pods().size, 2);

    const targets = await waitForServiceEndpoints(ns, 'shop', 80, 2, { kubeConfig: kc });
    for (const t of targets) {
      const { socket } = await connectService(ns, 'shop', 80, { kubeConfig: kc, pod: t.pod });
      const http = new KeepAliveClient(socket);
      assert.equal((await http.request('GET', '/a', { host: 'shop', 'x-intercept-id': 'dev-1' })).body.toString(), 'laptop:dev /a');
      assert.equal((JSON.parse((await http.request('GET', '/b', { host: 'shop' })).body.toString()) as { pod: string }).pod, t.pod);
      http.close();
    }
    await session.stop();
    const removed = await injector.remove({ namespace: ns, service: 'shop' });
    assert.equal(removed.removedSidecar, true);
  });
});
