// The environment of a program that calls out through the pod: every Service address its variables
// name (`http://billing:8080`, `postgres.shop.svc.cluster.local:5432`) is pointed at a local forward
// to that Service, and HTTP_PROXY / HTTPS_PROXY / NO_PROXY name the outbound HTTP proxy for the rest.
import { rewriteClusterAddresses, serviceAddressesIn, type AddressChange } from '../env/cluster-addresses';
import type { EnvVariable } from '../env/types';
import { proxyEnvironment } from './propagation';

export interface OutboundEnvironmentDeps {
  /** The Services of a namespace and their ports; undefined when they cannot be read. */
  servicePorts(namespace: string): Promise<ReadonlyMap<string, readonly number[]> | undefined>;
  /** Opens (or finds) the local forward to `host:port` in the pod's network; its local port. */
  forward(host: string, port: number): Promise<number>;
  /** The outbound HTTP proxy's local port. */
  readonly proxyPort: number;
}

export interface OutboundEnvironment {
  readonly variables: readonly EnvVariable[];
  /** The variables whose Service addresses now point at local forwards. */
  readonly changes: readonly AddressChange[];
  /** Each forward opened: the Service as the pod dials it, and its local port. */
  readonly forwards: readonly { readonly destination: string; readonly localPort: number }[];
  /** The pod sets a proxy of its own (HTTP_PROXY and the like): it is kept, and ours is not named. */
  readonly podProxyKept: boolean;
}

const PROXY_NAMES = /^(https?_proxy|no_proxy|all_proxy)$/i;

export const PROXY_SOURCE = "Intercept's outbound HTTP proxy";

export async function outboundEnvironment(variables: readonly EnvVariable[], namespace: string, deps: OutboundEnvironmentDeps): Promise<OutboundEnvironment> {
  // Every host that reads like `name[.namespace[.svc...]]` is a candidate; the namespaces it names
  // are read once each, and only real Services with that port get a forward.
  const candidates = serviceAddressesIn(variables, namespace, () => true);
  const known = new Map<string, readonly number[]>();
  for (const ns of new Set(candidates.map((c) => c.service.slice(c.service.indexOf('.') + 1)))) {
    const ports = await deps.servicePorts(ns);
    for (const [name, p] of ports ?? []) known.set(`${name}.${ns}`, p);
  }
  const forwards: { destination: string; localPort: number }[] = [];
  const localPorts = new Map<string, number>();
  for (const a of candidates) {
    if (!known.get(a.service)?.includes(a.port)) continue;
    // `name.namespace.svc` resolves through the pod's search path whatever the cluster's domain.
    const destination = `${a.service}.svc:${a.port}`;
    const localPort = await deps.forward(`${a.service}.svc`, a.port);
    forwards.push({ destination, localPort });
    localPorts.set(`${a.service}:${a.port}`, localPort);
  }
  const rewritten = rewriteClusterAddresses(variables, namespace, localPorts);
  // A pod that names its own proxy (an egress proxy of the cluster) keeps it: its program calls out
  // the way it does in the pod, through that proxy's forward when it is a Service.
  const podProxyKept = variables.some((v) => PROXY_NAMES.test(v.name) && !/^no_proxy$/i.test(v.name));
  const proxy = podProxyKept ? [] : Object.entries(proxyEnvironment(deps.proxyPort)).map(([name, value]): EnvVariable => ({ name, value, source: PROXY_SOURCE, secret: false }));
  return {
    variables: [...rewritten.variables.filter((v) => podProxyKept || !PROXY_NAMES.test(v.name)), ...proxy],
    changes: rewritten.changes,
    forwards,
    podProxyKept,
  };
}
