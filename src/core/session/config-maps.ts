// The ConfigMaps an injection needs: the sidecar's code (one per build and namespace, shared by the
// workloads there) and the claims announced to the sidecars of one workload.
import { PatchStrategy, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { isStatus } from '../kube/api-errors';
import type { KubeClient } from '../kube/kube-client';
import { ANNOTATION_SHA256, ANNOTATION_VERSION, CODE_FILE, FIELD_MANAGER, LABEL_MANAGED, LABEL_MANAGED_VALUE, LABEL_WORKLOAD } from './names';
import type { SidecarBuild } from './sidecar-build';

const applyHeader = () => setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

async function applyConfigMap(client: KubeClient, namespace: string, body: V1ConfigMap): Promise<void> {
  const name = body.metadata!.name!;
  await client.call({ verb: 'patch', resource: 'configmaps', namespace, name }, () =>
    client.core.patchNamespacedConfigMap({ namespace, name, body, fieldManager: FIELD_MANAGER }, applyHeader()),
  );
}

export async function ensureCodeConfigMap(client: KubeClient, namespace: string, name: string, build: SidecarBuild): Promise<void> {
  await applyConfigMap(client, namespace, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { [LABEL_MANAGED]: LABEL_MANAGED_VALUE },
      annotations: { [ANNOTATION_VERSION]: build.version, [ANNOTATION_SHA256]: build.sha256 },
    },
    data: { [CODE_FILE]: build.code },
  });
}

/** Creates the claims ConfigMap when missing; never touches the claims already in it. */
export async function ensureClaimsConfigMap(client: KubeClient, namespace: string, name: string, workload: string): Promise<void> {
  await applyConfigMap(client, namespace, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { [LABEL_MANAGED]: LABEL_MANAGED_VALUE, [LABEL_WORKLOAD]: workload } },
  });
}

export async function deleteConfigMap(client: KubeClient, namespace: string, name: string): Promise<void> {
  try {
    await client.call({ verb: 'delete', resource: 'configmaps', namespace, name }, () => client.core.deleteNamespacedConfigMap({ namespace, name }));
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}
