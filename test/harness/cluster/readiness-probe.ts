// A container's readinessProbe as the pod runner can run it (readiness-prober.ts runs it):
//   httpGet    GET <scheme HTTP>://<host or pod IP>:<port><path>, success for status 200-399;
//   tcpSocket  a TCP connection to <host or pod IP>:<port> succeeds;
//   the port is a number or a name of one of the container's ports.
// exec, grpc and HTTPS are not supported: readinessProbeOf() throws a ProbeUnsupportedError.
// Timing as in Kubernetes, with its defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds
// 1, successThreshold 1, failureThreshold 3.
import type { V1Container, IntOrString } from '@kubernetes/client-node';

export type ProbeTarget =
  | { kind: 'http'; port: number; host?: string; path: string; headers: Record<string, string> }
  | { kind: 'tcp'; port: number; host?: string };

export interface ReadinessProbe {
  target: ProbeTarget;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export class ProbeUnsupportedError extends Error {}

/** The container's readinessProbe (undefined when it has none); throws when the runner cannot run it. */
export function readinessProbeOf(container: V1Container): ReadinessProbe | undefined {
  const p = container.readinessProbe;
  if (!p) return undefined;
  const what = `readinessProbe of container ${container.name}`;
  const port = (value: IntOrString | undefined): number => {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
    const named = (container.ports ?? []).find((cp) => cp.name === value);
    if (!named) throw new ProbeUnsupportedError(`${what}: the container has no port named "${String(value)}"`);
    return named.containerPort;
  };
  let target: ProbeTarget;
  if (p.httpGet) {
    if ((p.httpGet.scheme ?? 'HTTP').toUpperCase() !== 'HTTP') {
      throw new ProbeUnsupportedError(`${what}: scheme ${p.httpGet.scheme} is not supported by the test cluster, only HTTP`);
    }
    const headers = Object.fromEntries((p.httpGet.httpHeaders ?? []).map((h) => [h.name.toLowerCase(), h.value]));
    target = { kind: 'http', port: port(p.httpGet.port), host: p.httpGet.host, path: p.httpGet.path || '/', headers };
  } else if (p.tcpSocket) {
    target = { kind: 'tcp', port: port(p.tcpSocket.port), host: p.tcpSocket.host };
  } else {
    const kind = p.exec ? 'exec' : p.grpc ? 'grpc' : 'this kind of';
    throw new ProbeUnsupportedError(`${what}: ${kind} probes are not supported by the test cluster, only httpGet and tcpSocket`);
  }
  return {
    target,
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    timeoutMs: Math.max(1, p.timeoutSeconds ?? 1) * 1000,
    successThreshold: Math.max(1, p.successThreshold ?? 1),
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
  };
}
