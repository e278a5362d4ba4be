// NetworkPolicies that would drop the traffic once the Service targets the sidecar: a pod selected
// by a policy with ingress rules accepts only the ports those rules list. When a rule lets the app's
// port in but none lets the sidecar's port in, moving the Service would cut every teammate's traffic,
// so the injection stops before changing anything and says which policy to extend.
import type { V1LabelSelector, V1NetworkPolicy } from '@kubernetes/client-node';

export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Does a policy's ingress let TCP traffic to this port (number, and name if the port has one) in? */
function allows(policy: V1NetworkPolicy, port: number, portName: string | undefined): boolean {
  for (const rule of policy.spec?.ingress ?? []) {
    if (!rule.ports || rule.ports.length === 0) return true;
    for (const p of rule.ports) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      if (p.port === undefined) return true;
      const value = p.port;
      if (typeof value === 'string' && !/^\d+$/.test(value)) {
        if (portName !== undefined && value === portName) return true;
        continue;
      }
      const from = Number(value);
      const to = p.endPort ?? from;
      if (port >= from && port <= to) return true;
    }
  }
  return false;
}

function isolatesIngress(policy: V1NetworkPolicy): boolean {
  const types = policy.spec?.policyTypes;
  return types ? types.includes('Ingress') : true;
}

/**
 * The policies that let the app's port in but not the sidecar's, for pods with these labels; empty
 * when traffic to the sidecar's port is allowed (or the pods are not isolated at all).
 */
export function policiesBlockingSidecar(
  policies: readonly V1NetworkPolicy[],
  podLabels: Record<string, string>,
  app: { port: number; name?: string },
  listenPort: number,
): string[] {
  const selecting = policies.filter((p) => isolatesIngress(p) && selectorMatches(p.spec?.podSelector, podLabels));
  if (selecting.length === 0) return [];
  // Ingress rules add up: the port is open when any selecting policy lets it in.
  if (selecting.some((p) => allows(p, listenPort, undefined))) return [];
  return selecting.filter((p) => allows(p, app.port, app.name)).map((p) => p.metadata?.name ?? '?');
}
