// What the pod runner reports to the API server as a kubelet would, through the pod's `status`
// subresource: each container's readiness, or that it waits (ContainerCreating) because its volumes
// cannot be set up; and from those the pod's Ready and ContainersReady conditions. kwok set the
// rest of the status when the pod became Running and no kwok Stage touches a Running pod again.
import { ApiException, type CoreV1Api, type V1ContainerStatus, type V1Pod, type V1PodCondition } from '@kubernetes/client-node';
import { isNotFound } from './kube.js';

export interface ContainerReport {
  name: string;
  ready: boolean;
  /** Set while the container cannot start. */
  waiting?: { reason: string; message: string };
}

/** `pod` with the containers' reports applied; `changed` is false when the status already says so. */
export function withContainerReports(pod: V1Pod, reports: readonly ContainerReport[], now = new Date()): { pod: V1Pod; changed: boolean } {
  const status = structuredClone(pod.status ?? {});
  let changed = false;
  const statuses: V1ContainerStatus[] = status.containerStatuses ?? [];
  for (const report of reports) {
    let s = statuses.find((cs) => cs.name === report.name);
    if (!s) {
      const image = pod.spec?.containers.find((c) => c.name === report.name)?.image ?? '';
      s = { name: report.name, image, imageID: '', ready: false, restartCount: 0 };
      statuses.push(s);
      changed = true;
    }
    const ready = report.ready && !report.waiting;
    if (s.ready !== ready) {
      s.ready = ready;
      changed = true;
    }
    if (report.waiting) {
      const w = s.state?.waiting;
      if (w?.reason !== report.waiting.reason || w?.message !== report.waiting.message || s.state?.running) {
        s.state = { waiting: { ...report.waiting } };
        s.started = false;
        changed = true;
      }
    } else if (!s.state?.running) {
      s.state = { running: { startedAt: now } };
      s.started = true;
      changed = true;
    }
  }
  status.containerStatuses = statuses;

  const unready = (pod.spec?.containers ?? []).map((c) => c.name).filter((n) => !statuses.find((s) => s.name === n)?.ready);
  const conditions: V1PodCondition[] = status.conditions ?? [];
  const gatesOpen = (pod.spec?.readinessGates ?? []).every((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True');
  const set = (type: string, isTrue: boolean) => {
    const value = isTrue ? 'True' : 'False';
    const reason = isTrue ? undefined : 'ContainersNotReady';
    const message = isTrue ? undefined : `containers with unready status: [${unready.join(' ')}]`;
    let c = conditions.find((x) => x.type === type);
    if (!c) {
      c = { type, status: value };
      conditions.push(c);
      changed = true;
    }
    if (c.status !== value) {
      c.lastTransitionTime = now;
      changed = true;
    }
    if (c.status !== value || c.reason !== reason || c.message !== message) changed = true;
    c.status = value;
    c.reason = reason;
    c.message = message;
  };
  set('ContainersReady', unready.length === 0);
  set('Ready', unready.length === 0 && gatesOpen);
  status.conditions = conditions;
  return { pod: { ...pod, status }, changed };
}

/**
 * Writes the reports to pod `namespace/name` (only the pod with this uid, and only when they change
 * its status). Retries on a conflicting write; a pod that is gone is left alone.
 */
export async function reportContainers(core: CoreV1Api, namespace: string, name: string, uid: string, reports: readonly ContainerReport[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let pod: V1Pod;
    try {
      pod = await core.readNamespacedPodStatus({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (pod.metadata?.uid !== uid || pod.metadata?.deletionTimestamp) return;
    const next = withContainerReports(pod, reports);
    if (!next.changed) return;
    try {
      await core.replaceNamespacedPodStatus({ namespace, name, body: next.pod });
      return;
    } catch (err) {
      // 409: someone (kwok, a controller) wrote the pod since it was read; read it again.
      if (err instanceof ApiException && err.code === 409 && attempt < 5) continue;
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
