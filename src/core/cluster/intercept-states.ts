// What the Services tree shows on each Service port: routed straight to the app, or through the
// Intercept proxy, and then who claims it. Read from what the cluster already holds (the Service's
// record of moved ports, the workload's injection record, the announced claims in the workload's
// claims ConfigMap), so showing it needs no connection to any pod.
import type { V1ConfigMap, V1Service } from '@kubernetes/client-node';
import { parseAnnouncedClaim } from '../../protocol/announced-claim';
import { selects } from '../kube/interceptability';
import { templateOf, type Workload } from '../kube/workloads';
import { readInjection, readServiceRecord, servicePortKey } from '../session/injection-plan';
import { LABEL_WORKLOAD } from '../session/names';

export interface PortClaim {
  readonly developer: string;
  readonly header: string;
  readonly value: string;
  /** Held by one of this window's intercepts (the lease's hash matches). */
  readonly mine: boolean;
}

export type PortState =
  /** Traffic goes to the app directly. */
  | { readonly kind: 'plain' }
  /** The port goes through the sidecar; `claims` lists who intercepts it now (none: an idle proxy). */
  | { readonly kind: 'proxy'; readonly listenPort: number; readonly claims: readonly PortClaim[] };

export interface ClaimSources {
  readonly workloads: readonly Workload[];
  /** The claims ConfigMaps of the namespace (label LABEL_WORKLOAD). */
  readonly claimMaps: readonly V1ConfigMap[];
  /** SHA-256 (hex) of the leases this window holds. */
  readonly myLeaseHashes: ReadonlySet<string>;
  readonly now: number;
}

/** The workload a Service selects, when exactly one does. */
export function workloadFor(svc: V1Service, workloads: readonly Workload[]): Workload | undefined {
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return undefined;
  const matching = workloads.filter((w) => w.namespace === svc.metadata?.namespace && selects(selector, templateOf(w).metadata?.labels));
  return matching.length === 1 ? matching[0] : undefined;
}

/** The live (not expired) claims announced for one listen port of a workload. */
export function announcedClaims(workload: Workload, listenPort: number, src: ClaimSources): PortClaim[] {
  const record = readInjection(workload.object.metadata?.annotations);
  if (!record) return [];
  const map = src.claimMaps.find((m) => m.metadata?.name === record.claimsConfigMap || m.metadata?.labels?.[LABEL_WORKLOAD] === workload.name);
  const claims: PortClaim[] = [];
  for (const text of Object.values(map?.data ?? {})) {
    const parsed = parseAnnouncedClaim(text);
    if (!parsed.ok || parsed.claim.port !== listenPort || parsed.expiresAtMs <= src.now) continue;
    const { developer, header, value, leaseSha256: lease } = parsed.claim;
    claims.push({ developer, header, value, mine: src.myLeaseHashes.has(lease) });
  }
  return claims.sort((a, b) => Number(b.mine) - Number(a.mine) || a.developer.localeCompare(b.developer));
}

/** The state of every port of a Service, keyed by `<port>/<protocol>`. */
export function portStates(svc: V1Service, src: ClaimSources): Map<string, PortState> {
  const record = readServiceRecord(svc);
  const workload = workloadFor(svc, src.workloads);
  const states = new Map<string, PortState>();
  for (const p of svc.spec?.ports ?? []) {
    const key = servicePortKey(p);
    const moved = record[key];
    if (!moved || (p.targetPort as unknown) !== moved.listenPort) {
      states.set(key, { kind: 'plain' });
      continue;
    }
    states.set(key, { kind: 'proxy', listenPort: moved.listenPort, claims: workload ? announcedClaims(workload, moved.listenPort, src) : [] });
  }
  return states;
}
