// Waits until a workload's new template runs on every replica, ready, with no old pod left; reports
// progress on the way and explains a stall. The state is read every `everyMs` (a bounded poll: the
// rollout takes seconds to minutes, and a read costs the API server little).
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreError } from '../errors';
import type { KubeClient } from '../kube/kube-client';
import { podsOf, readWorkload, replicaSetsOf } from '../kube/workload-api';
import type { Workload } from '../kube/workloads';
import { diagnoseRollout, rolloutProgress, type RolloutProgress } from './rollout-diagnosis';

export interface RolloutWaitOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RolloutProgress, stall: string | undefined) => void;
  /** A cause seen for this long ends the wait with `rollout-stalled`. */
  readonly stallAfterMs?: number;
  /** Without any cause, the wait still ends after this long. */
  readonly timeoutMs?: number;
  readonly everyMs?: number;
}

export async function waitForRollout(client: KubeClient, start: Workload, opts: RolloutWaitOptions = {}): Promise<Workload> {
  const { signal, stallAfterMs = 60_000, timeoutMs = 10 * 60_000, everyMs = 500 } = opts;
  const deadline = Date.now() + timeoutMs;
  let causeSince: number | undefined;
  let lastKey = '';
  for (;;) {
    if (signal?.aborted) throw new CoreError({ kind: 'cancelled', message: 'The rollout wait was cancelled.', hint: 'The change is being undone.' });
    const w = await readWorkload(client, start.kind, start.namespace, start.name);
    const progress = rolloutProgress(w);
    if (progress.complete) {
      opts.onProgress?.(progress, undefined);
      return w;
    }
    const [pods, replicaSets] = await Promise.all([podsOf(client, w), replicaSetsOf(client, w)]);
    const cause = diagnoseRollout(w, pods, replicaSets);
    causeSince = cause === undefined ? undefined : (causeSince ?? Date.now());
    const key = `${JSON.stringify(progress)}|${cause ?? ''}`;
    if (key !== lastKey) opts.onProgress?.(progress, cause);
    lastKey = key;
    if (cause !== undefined && Date.now() - causeSince! >= stallAfterMs) {
      throw new CoreError({ kind: 'rollout-stalled', cause, message: `The rollout of ${w.kind} ${w.namespace}/${w.name} is stuck: ${cause}`, hint: 'Fix the cause and try again; Intercept undid its change.' });
    }
    if (Date.now() >= deadline) {
      throw new CoreError({
        kind: 'rollout-stalled',
        cause: cause ?? 'no progress',
        message: `The rollout of ${w.kind} ${w.namespace}/${w.name} did not finish within ${Math.round(timeoutMs / 1000)} s (${progress.updated}/${progress.desired} updated, ${progress.ready} ready)${cause ? `: ${cause}` : '.'}`,
        hint: 'Check the workload\'s events; Intercept undid its change.',
      });
    }
    await sleep(everyMs, undefined, signal ? { signal } : {}).catch(() => undefined);
  }
}
