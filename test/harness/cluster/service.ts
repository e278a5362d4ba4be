// "In-cluster" requests to a Service, as kube-proxy would route them: the Service port is looked up
// (by number or name), its EndpointSlices give the ready endpoints and the target port, one endpoint
// is chosen (round-robin per Service and port, over the endpoints sorted by pod name), and the
// connection goes to <pod IP>:<target port> inside that pod's network namespace. Only pods whose
// processes run (their namespace exists) count; the call waits, bounded, for one to be there.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1ServicePort } from '@kubernetes/client-node';
import { connectInNetns, netnsExists, podNetnsName } from './netns.js';
import { loadKubeConfig, waitFor } from './kube.js';

export interface ServiceTarget {
  pod: string;
  podIP: string;
  port: number;
  netns: string;
}

export interface ServiceConnectOptions {
  kubeConfig?: KubeConfig;
  /** Send to this pod's endpoint only. */
  pod?: string;
  /** How long to wait for a ready endpoint whose pod runs. */
  timeoutMs?: number;
}

export interface ServiceRequestOptions extends ServiceConnectOptions {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
}

export interface ServiceResponse extends StreamResponse {
  /** The pod whose process got the connection. */
  pod: string;
}

const turns = new Map<string, number>();

/** Ready endpoints of the Service port whose pods run (their namespace exists), sorted by pod name. */
export async function serviceTargets(namespace: string, service: string, port: number | string, opts: ServiceConnectOptions = {}): Promise<ServiceTarget[]> {
  const kc = opts.kubeConfig ?? loadKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const svc = await core.readNamespacedService({ namespace, name: service });
  const svcPort: V1ServicePort | undefined = (svc.spec?.ports ?? []).find((p) => p.port === port || p.name === port);
  if (!svcPort) throw new Error(`service ${namespace}/${service} has no port ${port}`);
  if ((svcPort.protocol ?? 'TCP') !== 'TCP') throw new Error(`service ${namespace}/${service} port ${port} is ${svcPort.protocol}`);
  const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  const found: ServiceTarget[] = [];
  for (const slice of slices.items) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (svcPort.name ?? ''));
    if (!sp?.port) continue;
    for (const ep of slice.endpoints) {
      if (ep.conditions?.ready === false || ep.targetRef?.kind !== 'Pod' || !ep.targetRef.uid) continue;
      if (opts.pod && ep.targetRef.name !== opts.pod) continue;
      const netns = podNetnsName(ep.targetRef.uid);
      if (!(await netnsExists(netns))) continue;
      found.push({ pod: ep.targetRef.name!, podIP: ep.addresses[0]!, port: sp.port, netns });
    }
  }
  return found.sort((a, b) => a.pod.localeCompare(b.pod));
}

/**
 * Waits until the Service port has exactly `count` ready endpoints whose pods run. EndpointSlices
 * follow pods with a delay (kube-controller-manager batches updates), so a test that needs every
 * replica behind the Service waits for this first.
 */
export async function waitForServiceEndpoints(
  namespace: string,
  service: string,
  port: number | string,
  count: number,
  opts: ServiceConnectOptions = {},
): Promise<ServiceTarget[]> {
  let last: ServiceTarget[] = [];
  return waitFor(
    `${count} ready endpoints of service ${namespace}/${service} port ${port}`,
    async () => {
      last = await serviceTargets(namespace, service, port, opts);
      return last.length === count ? last : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, everyMs: 200 },
  ).catch((err: unknown) => {
    if (err instanceof Error) err.message += `; last seen: ${last.map((t) => t.pod).join(', ') || 'none'}`;
    throw err;
  });
}

/** Picks the endpoint the next connection to the Service port goes to (waits, bounded, for one). */
export async function resolveService(namespace: string, service: string, port: number | string, opts: ServiceConnectOptions = {}): Promise<ServiceTarget> {
  const candidates = await waitFor(
    `a ready endpoint of service ${namespace}/${service} port ${port} whose pod runs${opts.pod ? ` (pod ${opts.pod})` : ''}`,
    async () => {
      const found = await serviceTargets(namespace, service, port, opts);
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 30_000, everyMs: 200 },
  );
  const key = `${namespace}/${service}:${port}`;
  const turn = turns.get(key) ?? 0;
  turns.set(key, turn + 1);
  return candidates[turn % candidates.length]!;
}

/** A TCP connection to the Service port, routed as kube-proxy would. */
export async function connectService(
  namespace: string,
  service: string,
  port: number | string,
  opts: ServiceConnectOptions = {},
): Promise<{ target: ServiceTarget; socket: Duplex }> {
  const target = await resolveService(namespace, service, port, opts);
  const socket = await connectInNetns(target.netns, target.port, { host: target.podIP });
  return { target, socket };
}

export interface StreamRequest {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface StreamResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/1.1 request over an already open byte stream (`what` names it in a timeout); destroys the stream after. */
export async function httpOverStream(socket: Duplex, req: StreamRequest, what: string): Promise<StreamResponse> {
  const timeoutMs = req.timeoutMs ?? 30_000;
  try {
    return await new Promise<StreamResponse>((resolve, reject) => {
      const timer = setTimeout(() => request.destroy(new Error(`no response from ${what} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      const request = http.request(
        {
          method: req.method ?? 'GET',
          path: req.path ?? '/',
          headers: { connection: 'close', ...req.headers },
          createConnection: () => socket,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('error', fail);
        },
      );
      request.on('error', fail);
      request.end(req.body);
    });
  } finally {
    socket.destroy();
  }
}

/** One HTTP/1.1 request to the Service port, routed as kube-proxy would; the connection is closed after. */
export async function requestService(
  namespace: string,
  service: string,
  port: number | string,
  opts: ServiceRequestOptions = {},
): Promise<ServiceResponse> {
  const { target, socket } = await connectService(namespace, service, port, opts);
  const res = await httpOverStream(
    socket,
    { ...opts, headers: { host: `${service}.${namespace}.svc.cluster.local:${port}`, ...opts.headers } },
    `${namespace}/${service}:${port} (pod ${target.pod})`,
  );
  return { pod: target.pod, ...res };
}
