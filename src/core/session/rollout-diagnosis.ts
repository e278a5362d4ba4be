// Why a rollout does not finish, in words a developer can act on, read from the workload, its new
// ReplicaSet and its pods. Pure: the caller fetches the objects.
import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Workload } from '../kube/workloads';

export interface RolloutProgress {
  readonly desired: number;
  /** Pods of the new template. */
  readonly updated: number;
  readonly ready: number;
  /** Pods of the old template still running. */
  readonly old: number;
  readonly complete: boolean;
}

export function rolloutProgress(w: Workload): RolloutProgress {
  const spec = w.object.spec!;
  const status = w.object.status ?? {};
  const desired = spec.replicas ?? 1;
  const observed = (status.observedGeneration ?? 0) >= (w.object.metadata?.generation ?? 0);
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  if (w.kind === 'Deployment') {
    const available = w.object.status?.availableReplicas ?? 0;
    const ready = w.object.status?.readyReplicas ?? 0;
    const complete = observed && updated === desired && total === desired && available === desired;
    return { desired, updated, ready, old: Math.max(0, total - updated), complete };
  }
  const ready = w.object.status?.readyReplicas ?? 0;
  const revisionsMatch = !w.object.status?.updateRevision || w.object.status.currentRevision === w.object.status.updateRevision;
  const complete = observed && updated === desired && ready === desired && total === desired && revisionsMatch;
  return { desired, updated, ready, old: Math.max(0, total - updated), complete };
}

const WAITING_STALLS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/** A cause that will not go away by waiting, or that has lasted; undefined while all looks in motion. */
export function diagnoseRollout(w: Workload, pods: readonly V1Pod[], replicaSets: readonly V1ReplicaSet[]): string | undefined {
  const name = `${w.kind} ${w.namespace}/${w.name}`;
  if (w.kind === 'Deployment' && w.object.spec?.paused) {
    return `${name} is paused, so it does not roll out: resume it (kubectl rollout resume deployment/${w.name}) or intercept another workload.`;
  }
  if (w.kind === 'StatefulSet' && w.object.spec?.updateStrategy?.type === 'OnDelete') {
    return `${name} uses updateStrategy OnDelete: its pods get the sidecar only when deleted.`;
  }
  if (w.kind === 'Deployment') {
    const deadline = w.object.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
    if (deadline) return `${name} exceeded its progress deadline: ${deadline.message ?? ''}`.trim();
  }
  for (const rs of replicaSets) {
    const failure = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    // Quota, admission (Pod Security, a policy engine) and LimitRange refusals show here.
    if (failure) return `New pods of ${name} are refused: ${failure.message ?? failure.reason ?? 'ReplicaFailure'}`;
  }
  for (const pod of pods) {
    const podName = pod.metadata?.name ?? '?';
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (unschedulable) return `Pod ${podName} cannot be scheduled: ${unschedulable.message ?? unschedulable.reason ?? ''}`.trim();
    for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && WAITING_STALLS.has(waiting.reason)) {
        return `Pod ${podName}, container ${cs.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      }
    }
  }
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running') continue;
    const unready = (pod.status.containerStatuses ?? []).filter((cs) => cs.ready === false && cs.state?.running);
    if (unready.length > 0) {
      return `Pod ${pod.metadata?.name} runs but is not ready: the readiness probe of ${unready.map((c) => c.name).join(', ')} fails.`;
    }
  }
  return undefined;
}
