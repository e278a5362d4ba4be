// The workload behind a Service: the Deployment or StatefulSet whose pod template the selector
// picks, found from the templates (so a workload scaled to zero is found too), and the container
// port the Service port targets.
import type { V1Container, V1ContainerPort, V1Deployment, V1PodTemplateSpec, V1Service, V1ServicePort, V1StatefulSet } from '@kubernetes/client-node';
import { notInterceptable } from '../errors';
import { findServicePort, portRefusal, selects, serviceRefusal } from './interceptability';
import type { KubeClient } from './kube-client';
import { listWorkloads } from './workload-api';

export type WorkloadKind = 'Deployment' | 'StatefulSet';

export type Workload =
  | { readonly kind: 'Deployment'; readonly name: string; readonly namespace: string; readonly object: V1Deployment }
  | { readonly kind: 'StatefulSet'; readonly name: string; readonly namespace: string; readonly object: V1StatefulSet };

export function templateOf(w: Workload): V1PodTemplateSpec {
  return w.object.spec!.template;
}

/** The app's port behind a Service port: the container port the targetPort names or numbers. */
export interface TargetPort {
  /** The app's port number inside the pod. */
  readonly appPort: number;
  /** The container that declares it, when one does. */
  readonly container?: string;
  /** The Service's targetPort as written: a name, a number, or undefined (then it equals `port`). */
  readonly original: string | number | undefined;
}

export function resolveTargetPort(svcPort: V1ServicePort, template: V1PodTemplateSpec): TargetPort | { error: string } {
  const target = svcPort.targetPort;
  const containers: V1Container[] = template.spec?.containers ?? [];
  const declared = (c: V1Container): V1ContainerPort[] => (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
  if (typeof target === 'string' && !/^\d+$/.test(target)) {
    for (const c of containers) {
      const p = declared(c).find((cp) => cp.name === target);
      if (p) return { appPort: p.containerPort, container: c.name, original: target };
    }
    return { error: `no container of the pod template declares a port named "${target}"` };
  }
  const number = target === undefined ? svcPort.port : Number(target);
  const owner = containers.find((c) => declared(c).some((cp) => cp.containerPort === number));
  return { appPort: number, ...(owner ? { container: owner.name } : {}), original: target };
}

/** Finds the one Deployment or StatefulSet the Service selects; typed refusals otherwise. */
export async function workloadOf(client: KubeClient, svc: V1Service): Promise<Workload> {
  const refusal = serviceRefusal(svc);
  if (refusal) throw notInterceptable(refusal.reason, refusal.message, refusal.hint);
  const namespace = svc.metadata!.namespace!;
  const selector = svc.spec!.selector!;
  const found = (await listWorkloads(client, namespace)).filter((w) => selects(selector, templateOf(w).metadata?.labels));
  const svcName = `${namespace}/${svc.metadata!.name}`;
  if (found.length > 1) {
    throw notInterceptable(
      'several-workloads',
      `Service ${svcName} selects the pods of several workloads (${found.map((w) => `${w.kind} ${w.name}`).join(', ')}).`,
      'Intercept a Service that selects one workload, or narrow the selector.',
    );
  }
  if (found.length === 0) {
    const pods = await client.call({ verb: 'list', resource: 'pods', namespace }, () =>
      client.core.listNamespacedPod({ namespace, labelSelector: Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') }),
    );
    const owners = [...new Set(pods.items.map((p) => p.metadata?.ownerReferences?.find((o) => o.controller)?.kind ?? 'bare Pod'))];
    if (owners.length > 0) {
      throw notInterceptable(
        'unsupported-workload',
        `Service ${svcName} selects pods run by ${owners.join(', ')}: Intercept adds its proxy to Deployments and StatefulSets only.`,
        'Run the app as a Deployment or StatefulSet to intercept it.',
      );
    }
    throw notInterceptable('no-workload', `No Deployment or StatefulSet has pods that Service ${svcName} selects.`, 'Check the Service selector against your workload labels.');
  }
  const workload = found[0]!;
  if (templateOf(workload).spec?.hostNetwork) {
    throw notInterceptable(
      'host-network',
      `${workload.kind} ${workload.name} runs in the node's network (hostNetwork): a proxy there would take ports on the node itself.`,
      'Intercept a workload that runs in its own pod network.',
    );
  }
  return workload;
}

/** The Service port to intercept, with the refusal when it cannot be. */
export function servicePortFor(svc: V1Service, port: string | number): V1ServicePort {
  const p = findServicePort(svc, port);
  if (!p) {
    const have = (svc.spec?.ports ?? []).map((x) => (x.name ? `${x.port} (${x.name})` : String(x.port))).join(', ');
    throw notInterceptable('no-such-port', `Service ${svc.metadata?.name} has no port ${port} (it has: ${have || 'none'}).`, 'Choose one of its ports.');
  }
  const refusal = portRefusal(svc, p);
  if (refusal) throw notInterceptable(refusal.reason, refusal.message, refusal.hint);
  return p;
}

export async function readService(client: KubeClient, namespace: string, name: string): Promise<V1Service> {
  return client.call({ verb: 'get', resource: 'services', namespace, name }, () => client.core.readNamespacedService({ namespace, name }));
}
