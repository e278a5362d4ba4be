// Reads what the pod environment of a workload's container depends on (the container, one ready
// pod, the ConfigMaps and Secrets it refers to) and resolves it. Secrets are read only when asked;
// a Secret or ConfigMap that RBAC refuses leaves its variables out with a note instead of failing
// the whole. Nothing here logs or stores a value.
import type { V1ConfigMap, V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { CoreError } from '../errors';
import type { KubeClient } from '../kube/kube-client';
import { isPodReady } from '../kube/pod-watch';
import { labelSelectorOf } from '../kube/workload-api';
import { templateOf, type Workload } from '../kube/workloads';
import { SIDECAR_CONTAINER } from '../session/names';
import type { NameRule } from './env-names';
import { resolveEnvironment } from './resolve-env';
import type { EnvNote, ResolvedEnvironment, SourceData } from './types';

/** The reads the loader makes; `kubePodEnvApi` gives them over a KubeClient, tests give fakes. */
export interface PodEnvApi {
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  readConfigMap(namespace: string, name: string): Promise<V1ConfigMap>;
  readSecret(namespace: string, name: string): Promise<V1Secret>;
}

export function kubePodEnvApi(client: KubeClient): PodEnvApi {
  return {
    listPods: async (namespace, labelSelector) =>
      (await client.call({ verb: 'list', resource: 'pods', namespace }, () => client.core.listNamespacedPod({ namespace, labelSelector }))).items,
    readConfigMap: (namespace, name) =>
      client.call({ verb: 'get', resource: 'configmaps', namespace, name }, () => client.core.readNamespacedConfigMap({ namespace, name })),
    readSecret: (namespace, name) => client.call({ verb: 'get', resource: 'secrets', namespace, name }, () => client.core.readNamespacedSecret({ namespace, name })),
  };
}

export interface PodEnvironment extends ResolvedEnvironment {
  readonly namespace: string;
  readonly container: string;
  /** The pod whose fields and container spec were used; undefined when none was ready. */
  readonly pod?: string;
  readonly secretsIncluded: boolean;
}

export interface LoadOptions {
  /** Read Secrets (the user agreed); otherwise their variables are left out with a note. */
  readonly includeSecrets: boolean;
  readonly nameRule?: NameRule;
}

/** The app container behind an app port: the one declaring it, else the only one besides the proxy. */
export function appContainerName(workload: Workload, appPort: number): string | undefined {
  const containers = templateOf(workload).spec?.containers ?? [];
  const declaring = containers.find((c) => c.ports?.some((p) => p.containerPort === appPort && (p.protocol ?? 'TCP') === 'TCP'));
  if (declaring) return declaring.name;
  const apps = containers.filter((c) => c.name !== SIDECAR_CONTAINER);
  return apps.length === 1 ? apps[0]!.name : undefined;
}

/** Whether the container's environment reads any Secret (so asking the user about Secrets makes sense). */
export function readsSecrets(workload: Workload, containerName: string): boolean {
  const c = templateOf(workload).spec?.containers.find((x) => x.name === containerName);
  return (c?.envFrom ?? []).some((f) => f.secretRef) || (c?.env ?? []).some((e) => e.valueFrom?.secretKeyRef);
}

export async function loadPodEnvironment(api: PodEnvApi, workload: Workload, containerName: string, options: LoadOptions): Promise<PodEnvironment> {
  const namespace = workload.namespace;
  const template = templateOf(workload);
  const templateContainer = template.spec?.containers.find((c) => c.name === containerName);
  if (!templateContainer) {
    throw new CoreError({
      kind: 'not-found',
      resource: 'containers',
      name: containerName,
      message: `${workload.kind} ${namespace}/${workload.name} has no container "${containerName}".`,
      hint: 'Refresh: the workload may have changed.',
    });
  }
  const notes: EnvNote[] = [];
  const pod = await readyPod(api, workload, notes);
  // The pod's own spec is what its kubelet used, with admission defaults (LimitRange requests and limits).
  const container: V1Container = pod?.spec?.containers.find((c) => c.name === containerName) ?? templateContainer;
  const podForFields: V1Pod = pod ?? { metadata: { ...template.metadata, namespace }, spec: template.spec };

  const configMapNames = new Set<string>();
  const secretNames = new Set<string>();
  for (const f of container.envFrom ?? []) {
    if (f.configMapRef?.name) configMapNames.add(f.configMapRef.name);
    if (f.secretRef?.name) secretNames.add(f.secretRef.name);
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMapNames.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secretNames.add(e.valueFrom.secretKeyRef.name);
  }

  const configMaps: Record<string, SourceData> = {};
  const secrets: Record<string, SourceData> = {};
  await Promise.all([
    ...[...configMapNames].map(async (name) => {
      configMaps[name] = await readSource(namespace, () => api.readConfigMap(namespace, name), (cm) => ({ ...(cm.data ?? {}) }));
    }),
    ...[...secretNames].map(async (name) => {
      secrets[name] = options.includeSecrets ? await readSource(namespace, () => api.readSecret(namespace, name), decodeSecret) : { state: 'not-read' };
    }),
  ]);

  const resolved = resolveEnvironment({
    container,
    pod: podForFields,
    running: pod !== undefined,
    configMaps,
    secrets,
    ...(options.nameRule ? { nameRule: options.nameRule } : {}),
  });
  return {
    variables: resolved.variables,
    notes: [...notes, ...resolved.notes],
    namespace,
    container: containerName,
    ...(pod?.metadata?.name ? { pod: pod.metadata.name } : {}),
    secretsIncluded: options.includeSecrets,
  };
}

async function readyPod(api: PodEnvApi, workload: Workload, notes: EnvNote[]): Promise<V1Pod | undefined> {
  let pods: V1Pod[];
  try {
    pods = await api.listPods(workload.namespace, labelSelectorOf(workload));
  } catch (err) {
    if (!(err instanceof CoreError) || err.kind !== 'forbidden') throw err;
    notes.push({ kind: 'unknown', variables: [], message: `No pod was read (you may not list pods in namespace ${workload.namespace}): pod fields are unknown.` });
    return undefined;
  }
  const ready = pods.filter(isPodReady).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return ready[0];
}

async function readSource<T>(namespace: string, read: () => Promise<T>, dataOf: (object: T) => Record<string, string>): Promise<SourceData> {
  try {
    return { state: 'read', data: dataOf(await read()) };
  } catch (err) {
    if (err instanceof CoreError && err.kind === 'not-found') return { state: 'missing' };
    if (err instanceof CoreError && err.kind === 'forbidden') return { state: 'forbidden', namespace };
    throw err;
  }
}

/** Secret data arrives base64-encoded; the container sees the bytes (as UTF-8 text here). */
function decodeSecret(secret: V1Secret): Record<string, string> {
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}
