// One namespace as the Services tree shows it: its Services with their ports, whether each can be
// intercepted, and each port's intercept state. Four list calls; claims that cannot be read (a Role
// without ConfigMap list) leave the ports' claims empty and say so.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { CoreError } from '../errors';
import type { KubeClient } from '../kube/kube-client';
import { summarize, type ServicePortSummary, type ServiceSummary } from '../kube/services';
import { listWorkloads } from '../kube/workload-api';
import type { Workload } from '../kube/workloads';
import { LABEL_MANAGED, LABEL_MANAGED_VALUE } from '../session/names';
import { portStates, workloadFor, type PortState } from './intercept-states';
import { servicePortKey } from '../session/injection-plan';

export interface PortView extends ServicePortSummary {
  readonly state: PortState;
}

export interface ServiceView extends Omit<ServiceSummary, 'ports'> {
  readonly ports: readonly PortView[];
  /** `Deployment/cart`, when exactly one workload is behind the Service. */
  readonly workload?: string;
}

export interface NamespaceView {
  readonly namespace: string;
  readonly services: readonly ServiceView[];
  /** Why claims are not shown, when they could not be read. */
  readonly claimsUnreadable?: string;
}

async function orEmptyWhenForbidden<T>(fn: () => Promise<T[]>): Promise<{ items: T[]; forbidden?: CoreError }> {
  try {
    return { items: await fn() };
  } catch (err) {
    if (err instanceof CoreError && err.failure.kind === 'forbidden') return { items: [], forbidden: err };
    throw err;
  }
}

export async function loadNamespaceView(client: KubeClient, namespace: string, myLeaseHashes: ReadonlySet<string>, now = Date.now()): Promise<NamespaceView> {
  const [services, workloads, claimMaps] = await Promise.all([
    client.call({ verb: 'list', resource: 'services', namespace }, () => client.core.listNamespacedService({ namespace })),
    orEmptyWhenForbidden<Workload>(() => listWorkloads(client, namespace)),
    orEmptyWhenForbidden<V1ConfigMap>(async () =>
      (
        await client.call({ verb: 'list', resource: 'configmaps', namespace }, () =>
          client.core.listNamespacedConfigMap({ namespace, labelSelector: `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}` }),
        )
      ).items,
    ),
  ]);
  const src = { workloads: workloads.items, claimMaps: claimMaps.items, myLeaseHashes, now };
  const views = services.items
    .map((svc): ServiceView => {
      const summary = summarize(svc);
      const states = portStates(svc, src);
      const w = workloadFor(svc, workloads.items);
      return {
        ...summary,
        ports: summary.ports.map((p, i) => ({ ...p, state: states.get(servicePortKey(svc.spec!.ports![i]!)) ?? { kind: 'plain' } })),
        ...(w ? { workload: `${w.kind}/${w.name}` } : {}),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const forbidden = workloads.forbidden ?? claimMaps.forbidden;
  return { namespace, services: views, ...(forbidden ? { claimsUnreadable: forbidden.message } : {}) };
}
