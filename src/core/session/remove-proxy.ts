// "Remove proxy": refused while anyone holds a claim on any pod of the workload, unless forced, in
// which case the holders whose intercepts end are named; then the Injector restores Service and
// workload in the order that keeps traffic flowing.
import { CoreError } from '../errors';
import type { KubeClient } from '../kube/kube-client';
import type { Workload } from '../kube/workloads';
import type { Injector, ServiceTarget } from './injector';
import { holdersOf, sidecarStatus } from './proxy-status';

export interface RemoveResult {
  readonly workload: Workload;
  readonly removedSidecar: boolean;
  /** Developers whose claims ended because the removal was forced. */
  readonly endedClaimsOf: readonly string[];
}

export async function removeProxy(
  client: KubeClient,
  injector: Injector,
  target: Omit<ServiceTarget, 'port'>,
  opts: { force?: boolean; signal?: AbortSignal } = {},
): Promise<RemoveResult> {
  const removal = await injector.resolveRemoval(target);
  const { workload, record } = removal;
  const holders = record ? holdersOf(await sidecarStatus(client, workload, record)) : [];
  if (holders.length > 0 && !opts.force) {
    throw new CoreError({
      kind: 'claims-held',
      holders,
      message: `Claims on ${workload.kind} ${workload.name} are held by ${holders.join(', ')}.`,
      hint: 'Ask them to stop, or remove anyway (their intercepts end).',
    });
  }
  const r = await injector.remove(target, opts.signal ? { signal: opts.signal } : {}, removal);
  return { ...r, endedClaimsOf: holders };
}
