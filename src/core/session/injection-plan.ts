// What an injection writes, as pure functions of the live objects: the sidecar container and its
// volumes (a server-side apply configuration owned by the field manager `intercept`, so applying an
// empty configuration under the same manager removes exactly what was added), the record of it on
// the workload, and the JSON patches that move a Service port to the sidecar and back. A JSON patch
// with a `test` of the current value makes the Service change fail, rather than overwrite, when
// someone else changed the port meanwhile.
import type { V1Container, V1PodTemplateSpec, V1Probe, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { Defaults, SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../../protocol/constants';
import type { Workload } from '../kube/workloads';
import {
  ANNOTATION_INJECTION,
  ANNOTATION_SERVICE,
  CLAIMS_MOUNT,
  CLAIMS_VOLUME,
  CODE_FILE,
  CODE_MOUNT,
  CODE_VOLUME,
  SIDECAR_CONTAINER,
} from './names';

export interface PortMapping {
  readonly appPort: number;
  readonly listenPort: number;
}

/** Kept as JSON in the workload's ANNOTATION_INJECTION: what the sidecar looks like. */
export interface InjectionRecord {
  readonly v: 1;
  readonly version: string;
  readonly sha256: string;
  readonly image: string;
  readonly codeConfigMap: string;
  readonly claimsConfigMap: string;
  readonly controlPort: number;
  readonly healthPort: number;
  readonly ports: readonly PortMapping[];
  /** The sidecar's `--grace` in seconds, when the first injection chose one (else its default). */
  readonly graceSeconds?: number;
  /** The sidecar lets claim holders open connections from the pod (`--outbound`). */
  readonly outbound?: boolean;
}

export interface SidecarSettings {
  readonly version: string;
  readonly sha256: string;
  /** A stock Node image by default; the sidecar's file comes from the code ConfigMap. */
  readonly image: string;
  readonly codeConfigMap: string;
  readonly claimsConfigMap: string;
  readonly resources?: SidecarResources;
  /** How long the sidecar keeps a claim (and holds its requests) after its tunnel drops. */
  readonly graceSeconds?: number;
  /** Let claim holders open connections from the pod (outbound streams, protocol 2). */
  readonly outbound?: boolean;
}

export interface SidecarResources {
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
}

/**
 * Requests and limits of the sidecar. A CPU request is what a HorizontalPodAutoscaler on CPU needs of
 * every container; the memory limit leaves room for the benchmark's peak (about 120 MB with 10,000
 * connections making a request each).
 */
export const DEFAULT_RESOURCES: SidecarResources = {
  requests: { cpu: '25m', memory: '64Mi' },
  limits: { cpu: '1', memory: '256Mi' },
};

/** Where the listen ports start; the first free port from here on is taken. */
export const FIRST_LISTEN_PORT = 15080;

export function readInjection(annotations: Record<string, string> | undefined): InjectionRecord | undefined {
  const text = annotations?.[ANNOTATION_INJECTION];
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as InjectionRecord;
    return r && r.v === 1 && Array.isArray(r.ports) ? r : undefined;
  } catch {
    return undefined;
  }
}

function probePorts(p: V1Probe | undefined): number[] {
  const port = p?.httpGet?.port ?? p?.tcpSocket?.port ?? p?.grpc?.port;
  return typeof port === 'number' ? [port] : [];
}

/** Every port the pod already uses or declares, besides the sidecar's own. */
export function usedPorts(template: V1PodTemplateSpec): Set<number> {
  const used = new Set<number>();
  const spec = template.spec;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    if (c.name === SIDECAR_CONTAINER) continue;
    for (const p of c.ports ?? []) {
      used.add(p.containerPort);
      if (p.hostPort) used.add(p.hostPort);
    }
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) for (const p of probePorts(probe)) used.add(p);
  }
  return used;
}

function firstFree(from: number, taken: Set<number>): number {
  let p = from;
  while (taken.has(p)) p++;
  if (p > 65535) throw new Error('no free port for the sidecar');
  taken.add(p);
  return p;
}

/**
 * The record after adding `appPort`: the existing one when it already maps that port (nothing to
 * change, no restart), else one more mapping on a port no container of the pod uses.
 */
export function planInjection(
  template: V1PodTemplateSpec,
  existing: InjectionRecord | undefined,
  appPort: number,
  settings: SidecarSettings,
): { record: InjectionRecord; changed: boolean; listenPort: number } {
  const mapped = existing?.ports.find((m) => m.appPort === appPort);
  if (existing && mapped) return { record: existing, changed: false, listenPort: mapped.listenPort };
  const taken = usedPorts(template);
  let controlPort: number;
  let healthPort: number;
  const ports: PortMapping[] = [...(existing?.ports ?? [])];
  if (existing) {
    controlPort = existing.controlPort;
    healthPort = existing.healthPort;
    for (const p of [controlPort, healthPort, ...ports.map((m) => m.listenPort)]) taken.add(p);
  } else {
    controlPort = firstFree(Defaults.controlPort, taken);
    healthPort = firstFree(Defaults.healthPort, taken);
  }
  const listenPort = firstFree(FIRST_LISTEN_PORT, taken);
  ports.push({ appPort, listenPort });
  const base = existing ?? settings;
  const record: InjectionRecord = {
    v: 1,
    version: base.version,
    sha256: base.sha256,
    image: base.image,
    codeConfigMap: base.codeConfigMap,
    claimsConfigMap: base.claimsConfigMap,
    controlPort,
    healthPort,
    ports,
    ...(base.graceSeconds !== undefined ? { graceSeconds: base.graceSeconds } : {}),
    ...(base.outbound ? { outbound: true } : {}),
  };
  return { record, changed: true, listenPort };
}

export function sidecarContainer(record: InjectionRecord, resources: SidecarResources = DEFAULT_RESOURCES): V1Container {
  return {
    name: SIDECAR_CONTAINER,
    image: record.image,
    command: ['node', ...SIDECAR_NODE_ARGS, `${CODE_MOUNT}/${CODE_FILE}`],
    args: [
      ...record.ports.flatMap((m) => ['--listen', `${m.listenPort}:${m.appPort}`]),
      '--control-port',
      String(record.controlPort),
      '--health-port',
      String(record.healthPort),
      '--claims-dir',
      CLAIMS_MOUNT,
      ...(record.graceSeconds !== undefined ? ['--grace', String(record.graceSeconds)] : []),
      ...(record.outbound ? ['--outbound'] : []),
    ],
    env: Object.entries(SIDECAR_ENV).map(([name, value]) => ({ name, value })),
    ports: record.ports.map((m) => ({ containerPort: m.listenPort, protocol: 'TCP' })),
    readinessProbe: { httpGet: { path: '/readyz', port: record.healthPort as never }, periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 1 },
    resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
    // The `restricted` Pod Security Standard, whatever the pod itself sets.
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: CODE_VOLUME, mountPath: CODE_MOUNT, readOnly: true },
      { name: CLAIMS_VOLUME, mountPath: CLAIMS_MOUNT, readOnly: true },
    ],
  };
}

/** The server-side apply configuration of the workload: only what Intercept owns. */
export function workloadApply(workload: Workload, record: InjectionRecord, resources?: SidecarResources): object {
  return {
    apiVersion: 'apps/v1',
    kind: workload.kind,
    metadata: { name: workload.name, namespace: workload.namespace, annotations: { [ANNOTATION_INJECTION]: JSON.stringify(record) } },
    spec: {
      template: {
        spec: {
          containers: [sidecarContainer(record, resources)],
          volumes: [
            { name: CODE_VOLUME, configMap: { name: record.codeConfigMap, defaultMode: 0o444 } },
            // Optional: should the claims ConfigMap go missing, pods still start and serve.
            { name: CLAIMS_VOLUME, configMap: { name: record.claimsConfigMap, optional: true, defaultMode: 0o444 } },
          ],
        },
      },
    },
  };
}

/** Applied under the same field manager, this removes everything the injection added. */
export function workloadRemoval(workload: Workload): object {
  return { apiVersion: 'apps/v1', kind: workload.kind, metadata: { name: workload.name, namespace: workload.namespace } };
}

// --- the Service ---

/** Kept as JSON in the Service's ANNOTATION_SERVICE, keyed by `<port>/<protocol>`. */
export type ServiceRecord = Record<string, { readonly original: string | number | null; readonly listenPort: number }>;

export function servicePortKey(p: V1ServicePort): string {
  return `${p.port}/${p.protocol ?? 'TCP'}`;
}

export function readServiceRecord(svc: V1Service): ServiceRecord {
  const text = svc.metadata?.annotations?.[ANNOTATION_SERVICE];
  if (!text) return {};
  try {
    const r = JSON.parse(text) as unknown;
    return r && typeof r === 'object' ? (r as ServiceRecord) : {};
  } catch {
    return {};
  }
}

export type JsonPatchOp =
  | { op: 'test' | 'replace' | 'add'; path: string; value: unknown }
  | { op: 'remove'; path: string };

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function annotationOps(svc: V1Service, record: ServiceRecord): JsonPatchOp[] {
  const annotations = svc.metadata?.annotations;
  const empty = Object.keys(record).length === 0;
  const path = `/metadata/annotations/${escapePointer(ANNOTATION_SERVICE)}`;
  if (empty) {
    if (!annotations?.[ANNOTATION_SERVICE]) return [];
    // The last key: remove the map itself so the Service reads as it did before.
    return Object.keys(annotations).length === 1 ? [{ op: 'remove', path: '/metadata/annotations' }] : [{ op: 'remove', path }];
  }
  if (!annotations) return [{ op: 'add', path: '/metadata/annotations', value: { [ANNOTATION_SERVICE]: JSON.stringify(record) } }];
  return [{ op: 'add', path, value: JSON.stringify(record) }];
}

/** Moves one Service port to the sidecar: test the port is as read, then change it and record the original. */
export function serviceInterceptPatch(svc: V1Service, port: V1ServicePort, listenPort: number): JsonPatchOp[] {
  const index = (svc.spec?.ports ?? []).indexOf(port);
  if (index < 0) throw new Error('the port is not one of the Service');
  const record = readServiceRecord(svc);
  const key = servicePortKey(port);
  const current = port.targetPort;
  const ops: JsonPatchOp[] = [{ op: 'test', path: `/spec/ports/${index}/port`, value: port.port }];
  ops.push(current === undefined ? { op: 'add', path: `/spec/ports/${index}/targetPort`, value: listenPort } : { op: 'test', path: `/spec/ports/${index}/targetPort`, value: current });
  if (current !== undefined) ops.push({ op: 'replace', path: `/spec/ports/${index}/targetPort`, value: listenPort });
  const next: ServiceRecord = { ...record, [key]: { original: record[key]?.original ?? current ?? null, listenPort } };
  ops.push(...annotationOps(svc, next));
  return ops;
}

/**
 * Puts one Service port back. Returns no operations when the port is not moved by Intercept.
 * The test on the current value keeps a change someone else made to the port since.
 */
export function serviceRestorePatch(svc: V1Service, key: string): JsonPatchOp[] {
  const record = readServiceRecord(svc);
  const entry = record[key];
  if (!entry) return [];
  const ports = svc.spec?.ports ?? [];
  const index = ports.findIndex((p) => servicePortKey(p) === key);
  const rest: ServiceRecord = Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
  const ops: JsonPatchOp[] = [];
  if (index >= 0 && (ports[index]!.targetPort as unknown) === entry.listenPort) {
    const restored = entry.original ?? ports[index]!.port;
    ops.push({ op: 'test', path: `/spec/ports/${index}/targetPort`, value: entry.listenPort });
    ops.push({ op: 'replace', path: `/spec/ports/${index}/targetPort`, value: restored });
  }
  ops.push(...annotationOps(svc, rest));
  return ops;
}
