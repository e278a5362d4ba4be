// `fieldRef` values: the pod fields Kubernetes offers to environment variables, read from a
// running pod (or only its namespace and spec when no pod runs: the rest is then unknown).
import type { V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';

export type FieldValue = { readonly value: string } | { readonly unknown: string } | { readonly unsupported: string };

const KEYED = /^metadata\.(labels|annotations)\['(.*)'\]$/;

export function podFieldValue(ref: V1ObjectFieldSelector, pod: V1Pod, running: boolean): FieldValue {
  const path = ref.fieldPath;
  const apiVersion = ref.apiVersion ?? 'v1';
  if (apiVersion !== 'v1') return { unsupported: `fieldRef apiVersion ${apiVersion} is not supported` };
  const keyed = KEYED.exec(path);
  if (keyed) {
    const map = keyed[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    // A label or annotation the pod does not carry is an empty value, not an error.
    return { value: map?.[keyed[2]!] ?? '' };
  }
  const needsPod = (v: string | undefined, what: string): FieldValue =>
    running && v !== undefined ? { value: v } : { unknown: `${what} is known only for a running pod` };
  switch (path) {
    case 'metadata.namespace':
      return { value: pod.metadata?.namespace ?? '' };
    case 'metadata.name':
      return needsPod(pod.metadata?.name, 'the pod name');
    case 'metadata.uid':
      return needsPod(pod.metadata?.uid, 'the pod uid');
    case 'spec.nodeName':
      return needsPod(pod.spec?.nodeName, 'the node name');
    case 'spec.serviceAccountName':
      // Admission sets "default" when the spec names none.
      return { value: pod.spec?.serviceAccountName || 'default' };
    case 'status.hostIP':
      return needsPod(pod.status?.hostIP, 'the node IP');
    case 'status.hostIPs':
      return needsPod(pod.status?.hostIPs?.map((h) => h.ip).join(',') ?? pod.status?.hostIP, 'the node IPs');
    case 'status.podIP':
      return needsPod(pod.status?.podIP, 'the pod IP');
    case 'status.podIPs':
      return needsPod(pod.status?.podIPs?.map((p) => p.ip).join(',') ?? pod.status?.podIP, 'the pod IPs');
    default:
      return { unsupported: `fieldRef ${path} is not offered to environment variables` };
  }
}
