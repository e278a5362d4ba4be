// Reading and changing Deployments and StatefulSets alike, and the pods and ReplicaSets behind them.
import { PatchStrategy, setHeaderOptions, type V1Pod, type V1ReplicaSet } from '@kubernetes/client-node';
import type { KubeClient } from './kube-client';
import type { Workload, WorkloadKind } from './workloads';

const plural = (kind: WorkloadKind) => (kind === 'Deployment' ? 'deployments' : 'statefulsets');
const applyHeader = () => setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

export async function readWorkload(client: KubeClient, kind: WorkloadKind, namespace: string, name: string): Promise<Workload> {
  const action = { verb: 'get', resource: plural(kind), namespace, name };
  if (kind === 'Deployment') {
    const object = await client.call(action, () => client.apps.readNamespacedDeployment({ namespace, name }));
    return { kind, namespace, name, object };
  }
  const object = await client.call(action, () => client.apps.readNamespacedStatefulSet({ namespace, name }));
  return { kind, namespace, name, object };
}

/** Server-side apply of `body` under `fieldManager`; fields other managers own are left alone. */
export async function applyWorkload(client: KubeClient, w: Workload, body: object, fieldManager: string): Promise<Workload> {
  const { namespace, name } = w;
  const action = { verb: 'patch', resource: plural(w.kind), namespace, name };
  if (w.kind === 'Deployment') {
    const object = await client.call(action, () => client.apps.patchNamespacedDeployment({ namespace, name, body, fieldManager }, applyHeader()));
    return { kind: 'Deployment', namespace, name, object };
  }
  const object = await client.call(action, () => client.apps.patchNamespacedStatefulSet({ namespace, name, body, fieldManager }, applyHeader()));
  return { kind: 'StatefulSet', namespace, name, object };
}

/** Every Deployment and StatefulSet of a namespace, as Workloads. */
export async function listWorkloads(client: KubeClient, namespace: string): Promise<Workload[]> {
  const [deployments, statefulSets] = await Promise.all([
    client.call({ verb: 'list', resource: 'deployments', namespace }, () => client.apps.listNamespacedDeployment({ namespace })),
    client.call({ verb: 'list', resource: 'statefulsets', namespace }, () => client.apps.listNamespacedStatefulSet({ namespace })),
  ]);
  return [
    ...deployments.items.map((object) => ({ kind: 'Deployment' as const, name: object.metadata!.name!, namespace, object })),
    ...statefulSets.items.map((object) => ({ kind: 'StatefulSet' as const, name: object.metadata!.name!, namespace, object })),
  ];
}

export function labelSelectorOf(w: Workload): string {
  const labels = w.object.spec?.selector?.matchLabels ?? w.object.spec?.template.metadata?.labels ?? {};
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export async function podsOf(client: KubeClient, w: Workload): Promise<V1Pod[]> {
  const namespace = w.namespace;
  const list = await client.call({ verb: 'list', resource: 'pods', namespace }, () => client.core.listNamespacedPod({ namespace, labelSelector: labelSelectorOf(w) }));
  return list.items;
}

/** The ReplicaSets a Deployment owns (none for a StatefulSet). */
export async function replicaSetsOf(client: KubeClient, w: Workload): Promise<V1ReplicaSet[]> {
  if (w.kind !== 'Deployment') return [];
  const namespace = w.namespace;
  const list = await client.call({ verb: 'list', resource: 'replicasets', namespace }, () => client.apps.listNamespacedReplicaSet({ namespace, labelSelector: labelSelectorOf(w) }));
  const uid = w.object.metadata?.uid;
  return list.items.filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid));
}
