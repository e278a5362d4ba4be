// What the user picks from: the namespaces they may see and the Services in one, with their ports and
// whether each can be intercepted.
import type { V1Service } from '@kubernetes/client-node';
import { CoreError } from '../errors';
import { portRefusal, serviceRefusal, type Refusal } from './interceptability';
import type { KubeClient } from './kube-client';

export interface ServicePortSummary {
  readonly name?: string;
  readonly port: number;
  readonly protocol: string;
  readonly targetPort?: string | number;
  readonly refusal?: Refusal;
}

export interface ServiceSummary {
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly ports: readonly ServicePortSummary[];
  /** Set when the Service as a whole cannot be intercepted. */
  readonly refusal?: Refusal;
  /** The Service's annotations, where intercept state shows (see session/annotations). */
  readonly annotations: Readonly<Record<string, string>>;
}

export function summarize(svc: V1Service): ServiceSummary {
  const refusal = serviceRefusal(svc);
  return {
    namespace: svc.metadata!.namespace!,
    name: svc.metadata!.name!,
    type: svc.spec?.type ?? 'ClusterIP',
    ports: (svc.spec?.ports ?? []).map((p) => {
      const pr = portRefusal(svc, p);
      return {
        ...(p.name ? { name: p.name } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
        ...(pr ? { refusal: pr } : {}),
      };
    }),
    ...(refusal ? { refusal } : {}),
    annotations: svc.metadata?.annotations ?? {},
  };
}

export async function listServices(client: KubeClient, namespace: string): Promise<ServiceSummary[]> {
  const list = await client.call({ verb: 'list', resource: 'services', namespace }, () => client.core.listNamespacedService({ namespace }));
  return list.items.map(summarize).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The namespaces to offer. A user who may not list namespaces (common with a namespaced Role) still
 * gets the context's own namespace, marked so the UI can say why the list is short.
 */
export async function listNamespaces(client: KubeClient): Promise<{ names: string[]; restricted: boolean }> {
  try {
    const list = await client.call({ verb: 'list', resource: 'namespaces' }, () => client.core.listNamespace());
    return { names: list.items.map((n) => n.metadata!.name!).sort(), restricted: false };
  } catch (err) {
    if (err instanceof CoreError && err.failure.kind === 'forbidden') return { names: [client.defaultNamespace], restricted: true };
    throw err;
  }
}
