// A workload that a GitOps controller keeps in sync would have the sidecar reverted (and its pods
// restarted) at the controller's next sync: the user is warned before anything changes.
import type { V1ObjectMeta } from '@kubernetes/client-node';

const MARKS: readonly { controller: string; labels?: readonly string[]; annotations?: readonly string[] }[] = [
  { controller: 'Argo CD', labels: ['argocd.argoproj.io/instance'], annotations: ['argocd.argoproj.io/tracking-id'] },
  { controller: 'Flux', labels: ['kustomize.toolkit.fluxcd.io/name', 'helm.toolkit.fluxcd.io/name'] },
];

/** The controller that manages this object, if its labels or annotations say so. */
export function gitOpsController(meta: V1ObjectMeta | undefined): string | undefined {
  for (const m of MARKS) {
    if (m.labels?.some((l) => meta?.labels?.[l] !== undefined)) return m.controller;
    if (m.annotations?.some((a) => meta?.annotations?.[a] !== undefined)) return m.controller;
  }
  return undefined;
}
