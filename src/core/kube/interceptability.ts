// Which Services and ports can be intercepted, and why not: pure rules on the API objects.
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { NotInterceptableReason } from '../errors';

export interface Refusal {
  readonly reason: NotInterceptableReason;
  readonly message: string;
  readonly hint: string;
}

/** Namespaces of the cluster's own components: an intercept there would disturb the cluster itself. */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

/** Why the Service as a whole cannot be intercepted, or undefined when it can. */
export function serviceRefusal(svc: V1Service): Refusal | undefined {
  const name = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
  if (SYSTEM_NAMESPACES.has(svc.metadata?.namespace ?? '')) {
    return {
      reason: 'system-namespace',
      message: `Service ${name} is in a namespace of the cluster's own components.`,
      hint: 'Intercept services of your applications, not of the cluster.',
    };
  }
  if (svc.spec?.type === 'ExternalName') {
    return {
      reason: 'external-name',
      message: `Service ${name} is an ExternalName alias for ${svc.spec.externalName ?? 'another host'}: it has no pods to route from.`,
      hint: 'Intercept the Service the name points to, if it is in this cluster.',
    };
  }
  if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) {
    return {
      reason: 'no-selector',
      message: `Service ${name} has no selector: its endpoints are managed by hand, so there is no workload to add the proxy to.`,
      hint: 'Intercept the Service of the workload behind those endpoints instead.',
    };
  }
  if (svc.spec.clusterIP === 'None') {
    return {
      reason: 'headless',
      message: `Service ${name} is headless: clients connect to pod addresses directly, so moving its target port would not route their traffic.`,
      hint: 'Intercept a Service with a cluster IP that selects the same pods.',
    };
  }
  return undefined;
}

/** Why one port cannot be intercepted (a Service may have both kinds). */
export function portRefusal(svc: V1Service, port: V1ServicePort): Refusal | undefined {
  const protocol = port.protocol ?? 'TCP';
  if (protocol !== 'TCP') {
    return {
      reason: 'udp-port',
      message: `Port ${port.name ?? port.port}/${protocol} of Service ${svc.metadata?.name} is not TCP: the proxy routes HTTP over TCP only.`,
      hint: 'Choose a TCP port of the Service.',
    };
  }
  return undefined;
}

/** Finds a Service port by number or name. */
export function findServicePort(svc: V1Service, port: string | number): V1ServicePort | undefined {
  const ports = svc.spec?.ports ?? [];
  if (typeof port === 'number' || /^\d+$/.test(port)) return ports.find((p) => p.port === Number(port));
  return ports.find((p) => p.name === port);
}

/** True when every label of the selector is on the pod template (how a Service picks its pods). */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
