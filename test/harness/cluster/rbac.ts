// The Role docs/rbac.md documents, bound to a ServiceAccount of a test namespace: what a developer
// who is not an administrator has.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RbacAuthorizationV1Api, loadYaml, type KubeConfig, type V1Role } from '@kubernetes/client-node';
import { kubeConfigForServiceAccount, repoRoot } from './kube.js';

/** The first YAML block of docs/rbac.md: the Role the page documents. */
export function documentedRole(): V1Role {
  const page = readFileSync(path.join(repoRoot, 'docs', 'rbac.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(page);
  assert.ok(block, 'docs/rbac.md has a yaml block');
  const role = loadYaml<V1Role>(block[1]!);
  assert.equal(role.kind, 'Role');
  return role;
}

/** Creates the documented Role in `namespace` (unless there), binds it to ServiceAccount `name`, and returns its kubeconfig. */
export async function developerWithDocumentedRole(kc: KubeConfig, namespace: string, name: string): Promise<KubeConfig> {
  const role = documentedRole();
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  // One Role per namespace serves every developer bound to it.
  await rbac.createNamespacedRole({ namespace, body: role }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name! },
    },
  });
  return kubeConfigForServiceAccount(kc, namespace, name);
}
