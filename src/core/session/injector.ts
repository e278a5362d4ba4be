// Puts the sidecar in front of one Service port and takes it away again, in the order that keeps
// traffic without a claim flowing (DESIGN.md rule 1):
//   inject: ConfigMaps → workload (server-side apply, manager `intercept`) → rollout, every new pod
//           ready → Service targetPort to the sidecar → endpoints follow;
//   remove: Service targetPort back → endpoints follow → workload without the sidecar → rollout →
//           ConfigMaps no workload uses any more.
// A failed or cancelled rollout is undone before the error is reported, so nothing is left half-changed.
import { PatchStrategy, setHeaderOptions, type V1Service, type V1ServicePort } from '@kubernetes/client-node';
import { SIDECAR_IMAGE } from '../../protocol/constants';
import { CoreError, notInterceptable } from '../errors';
import { isStatus } from '../kube/api-errors';
import { waitForSlicePort } from '../kube/endpoints';
import { selects } from '../kube/interceptability';
import { policiesBlockingSidecar } from '../kube/network-policy';
import type { KubeClient } from '../kube/kube-client';
import { applyWorkload, listWorkloads } from '../kube/workload-api';
import { readService, resolveTargetPort, servicePortFor, templateOf, workloadOf, type Workload } from '../kube/workloads';
import { deleteConfigMap, ensureClaimsConfigMap, ensureCodeConfigMap } from './config-maps';
import { gitOpsController } from './gitops';
import {
  planInjection,
  readInjection,
  readServiceRecord,
  serviceInterceptPatch,
  servicePortKey,
  serviceRestorePatch,
  workloadApply,
  workloadRemoval,
  type InjectionRecord,
  type JsonPatchOp,
  type SidecarResources,
} from './injection-plan';
import { claimsConfigMapName, codeConfigMapName, FIELD_MANAGER } from './names';
import { waitForRollout, type RolloutWaitOptions } from './rollout';
import type { RolloutProgress } from './rollout-diagnosis';
import type { SidecarBuild } from './sidecar-build';

/** A stock Node image: the sidecar's code comes from a ConfigMap, so no registry of our own is needed. */
export const DEFAULT_SIDECAR_IMAGE = SIDECAR_IMAGE;

export type InjectStep = 'resolve' | 'config-maps' | 'workload' | 'rollout' | 'service' | 'endpoints' | 'undo' | 'done';

export type InjectEvent =
  | { readonly kind: 'step'; readonly step: InjectStep; readonly message: string }
  | { readonly kind: 'rollout'; readonly progress: RolloutProgress; readonly stall?: string }
  | { readonly kind: 'warning'; readonly message: string };

export interface InjectorOptions {
  readonly client: KubeClient;
  readonly build: SidecarBuild;
  readonly image?: string;
  readonly resources?: SidecarResources;
  /** The sidecar's grace period for dropped tunnels, set when the sidecar is first added. */
  readonly graceSeconds?: number;
  /** Let claim holders open connections from the pod; set when the sidecar is first added. */
  readonly outbound?: boolean;
  readonly onEvent?: (e: InjectEvent) => void;
  readonly rollout?: Pick<RolloutWaitOptions, 'stallAfterMs' | 'timeoutMs' | 'everyMs'>;
  readonly endpointsTimeoutMs?: number;
}

export interface ServiceTarget {
  readonly namespace: string;
  readonly service: string;
  /** Service port number or name. */
  readonly port: string | number;
}

export interface Injection {
  readonly workload: Workload;
  readonly record: InjectionRecord;
  readonly service: V1Service;
  readonly servicePort: V1ServicePort;
  readonly appPort: number;
  readonly listenPort: number;
  /** True when the sidecar was already there with this port (no restart happened). */
  readonly reused: boolean;
}

export interface Removal {
  readonly service: V1Service;
  readonly workload: Workload;
  readonly record: InjectionRecord | undefined;
}

const jsonPatch = () => setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const CONFLICT_RETRIES = 5;

export class Injector {
  constructor(private readonly opts: InjectorOptions) {}

  private emit(e: InjectEvent): void {
    this.opts.onEvent?.(e);
  }

  private step(step: InjectStep, message: string): void {
    this.emit({ kind: 'step', step, message });
  }

  /** Resolves Service, port and workload, with the typed refusals; changes nothing. */
  async resolve(target: ServiceTarget): Promise<{ service: V1Service; servicePort: V1ServicePort; workload: Workload; appPort: number }> {
    const { client } = this.opts;
    const service = await readService(client, target.namespace, target.service);
    const servicePort = servicePortFor(service, target.port);
    const workload = await workloadOf(client, service);
    // A port already moved to the sidecar is resolved from its original target.
    const moved = readServiceRecord(service)[servicePortKey(servicePort)];
    const asWritten = moved && (servicePort.targetPort as unknown) === moved.listenPort ? { ...servicePort, targetPort: (moved.original ?? servicePort.port) as never } : servicePort;
    const resolved = resolveTargetPort(asWritten, templateOf(workload));
    if ('error' in resolved) {
      throw notInterceptable('no-such-port', `Port ${servicePort.port} of Service ${target.service}: ${resolved.error}.`, 'Fix the Service targetPort or the container ports.');
    }
    return { service, servicePort, workload, appPort: resolved.appPort };
  }

  async inject(target: ServiceTarget, opts: { acceptGitOps?: boolean; signal?: AbortSignal } = {}): Promise<Injection> {
    const { client, build } = this.opts;
    this.step('resolve', `Reading Service ${target.namespace}/${target.service}`);
    const { servicePort, workload, appPort } = await this.resolve(target);
    const controller = gitOpsController(workload.object.metadata);
    if (controller && !opts.acceptGitOps) {
      throw new CoreError({
        kind: 'gitops-managed',
        controller,
        message: `${workload.kind} ${workload.name} is managed by ${controller}, which may revert the sidecar (and restart the pods) at its next sync.`,
        hint: `Pause ${controller}'s sync for it, or confirm to go ahead anyway.`,
      });
    }
    const existing = readInjection(workload.object.metadata?.annotations);
    if (existing && existing.version !== build.version) {
      const mapsPort = existing.ports.some((m) => m.appPort === appPort);
      if (!mapsPort) {
        throw new CoreError({
          kind: 'sidecar-version',
          found: existing.version,
          expected: build.version,
          message: `${workload.kind} ${workload.name} runs the Intercept sidecar ${existing.version}; this is ${build.version}, and adding a port would replace it under teammates' claims.`,
          hint: 'Remove the proxy when nobody holds a claim (it is then injected again in this version), or use the same Intercept version as the team.',
        });
      }
      this.emit({ kind: 'warning', message: `The sidecar in ${workload.kind} ${workload.name} is version ${existing.version} (this is ${build.version}); it is used as it is.` });
    }
    const plan = planInjection(templateOf(workload), existing, appPort, {
      version: build.version,
      sha256: build.sha256,
      image: this.opts.image ?? DEFAULT_SIDECAR_IMAGE,
      codeConfigMap: codeConfigMapName(build.version, build.sha256),
      claimsConfigMap: claimsConfigMapName(workload.kind, workload.name),
      ...(this.opts.graceSeconds !== undefined ? { graceSeconds: this.opts.graceSeconds } : {}),
      ...(this.opts.outbound ? { outbound: true } : {}),
    });

    if (plan.changed) refuseIfPaused(workload);
    await this.checkNetworkPolicies(workload, appPort, plan.listenPort);

    let current = workload;
    if (plan.changed) {
      this.step('config-maps', 'Writing the sidecar ConfigMaps');
      await ensureCodeConfigMap(client, workload.namespace, plan.record.codeConfigMap, build);
      await ensureClaimsConfigMap(client, workload.namespace, plan.record.claimsConfigMap, workload.name);
      this.step('workload', `Adding the sidecar to ${workload.kind} ${workload.name}`);
      current = await applyWorkload(client, workload, workloadApply(workload, plan.record, this.opts.resources), FIELD_MANAGER);
    }
    try {
      this.step('rollout', `Waiting for every pod of ${workload.kind} ${workload.name} to run the sidecar, ready`);
      current = await waitForRollout(client, current, {
        ...this.opts.rollout,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (progress, stall) => this.emit({ kind: 'rollout', progress, ...(stall ? { stall } : {}) }),
      });
      this.step('service', `Moving port ${servicePort.port} of Service ${target.service} to the sidecar (port ${plan.listenPort})`);
      const moved = await this.moveServicePort(target, servicePort, plan.listenPort, appPort, current);
      this.step('endpoints', 'Waiting for the Service endpoints to follow');
      await waitForSlicePort(client, target.namespace, target.service, servicePort.name ?? '', plan.listenPort, {
        ...(this.opts.endpointsTimeoutMs ? { timeoutMs: this.opts.endpointsTimeoutMs } : {}),
      });
      this.step('done', `Port ${servicePort.port} of Service ${target.service} goes through the sidecar`);
      return { workload: current, record: plan.record, service: moved, servicePort, appPort, listenPort: plan.listenPort, reused: !plan.changed };
    } catch (err) {
      if (plan.changed) await this.undo(workload, existing, target, servicePort);
      throw err;
    }
  }

  /** Refuses before any change when a NetworkPolicy lets the app's port in but not the sidecar's. */
  private async checkNetworkPolicies(workload: Workload, appPort: number, listenPort: number): Promise<void> {
    const { client } = this.opts;
    const namespace = workload.namespace;
    let policies;
    try {
      policies = await client.call({ verb: 'list', resource: 'networkpolicies.networking.k8s.io', namespace }, () => client.networking.listNamespacedNetworkPolicy({ namespace }));
    } catch (err) {
      if (err instanceof CoreError && err.failure.kind === 'forbidden') {
        this.emit({ kind: 'warning', message: `NetworkPolicies in ${namespace} cannot be read (${err.message}); if one limits the pods' ingress ports, allow port ${listenPort}.` });
        return;
      }
      throw err;
    }
    const template = templateOf(workload);
    const name = (template.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.containerPort === appPort)?.name;
    const blocking = policiesBlockingSidecar(policies.items, template.metadata?.labels ?? {}, { port: appPort, ...(name ? { name } : {}) }, listenPort);
    if (blocking.length > 0) {
      throw notInterceptable(
        'network-policy',
        `NetworkPolicy ${blocking.join(', ')} lets port ${appPort} of ${workload.kind} ${workload.name} in but not the sidecar's port ${listenPort}: moving the Service would cut its traffic.`,
        `Add TCP port ${listenPort} to the ingress rules of ${blocking.join(', ')}, then intercept again.`,
      );
    }
  }

  /** Back to how the workload was before this call: the earlier record, or no sidecar at all. */
  private async undo(before: Workload, existing: InjectionRecord | undefined, target: ServiceTarget, servicePort: V1ServicePort): Promise<void> {
    const { client } = this.opts;
    this.step('undo', `Undoing the change to ${before.kind} ${before.name}`);
    await this.restoreServicePort(target, servicePortKey(servicePort)).catch(() => undefined);
    const body = existing ? workloadApply(before, existing, this.opts.resources) : workloadRemoval(before);
    await applyWorkload(client, before, body, FIELD_MANAGER);
    if (existing) return;
    // As a removal leaves them: the claims ConfigMap goes, the code one unless another workload uses it.
    await deleteConfigMap(client, before.namespace, claimsConfigMapName(before.kind, before.name));
    const code = codeConfigMapName(this.opts.build.version, this.opts.build.sha256);
    if (!(await this.codeInUse(before.namespace, code))) await deleteConfigMap(client, before.namespace, code);
  }

  /**
   * A JSON patch of the Service planned from what was just read (its `test`s guard that reading);
   * when another writer won the race, read again and plan again. `plan` returns nothing when the
   * Service is already as wanted.
   */
  private async patchService(target: Omit<ServiceTarget, 'port'>, plan: (svc: V1Service) => JsonPatchOp[] | undefined): Promise<V1Service> {
    const { client } = this.opts;
    const { namespace, service: name } = target;
    for (let attempt = 1; ; attempt++) {
      const svc = await readService(client, namespace, name);
      const ops = plan(svc);
      if (!ops || ops.length === 0) return svc;
      try {
        return await client.call({ verb: 'patch', resource: 'services', namespace, name }, () =>
          client.core.patchNamespacedService({ namespace, name, body: ops, fieldManager: FIELD_MANAGER }, jsonPatch()),
        );
      } catch (err) {
        if (attempt >= CONFLICT_RETRIES || !(isStatus(err, 409) || isTestFailure(err))) throw err;
      }
    }
  }

  /**
   * The sidecar forwards to `appPort`; should another writer have pointed the Service port elsewhere
   * meanwhile, moving it would send their traffic to the old port, so the move gives way (and the
   * injection is undone).
   */
  private moveServicePort(target: ServiceTarget, port: V1ServicePort, listenPort: number, appPort: number, workload: Workload): Promise<V1Service> {
    const key = servicePortKey(port);
    return this.patchService(target, (svc) => {
      const current = svc.spec?.ports?.find((p) => servicePortKey(p) === key);
      if (!current) throw notInterceptable('no-such-port', `Service ${target.service} no longer has port ${port.port}.`, 'Refresh and choose a port again.');
      if ((current.targetPort as unknown) === listenPort && readServiceRecord(svc)[key]) return undefined;
      const now = resolveTargetPort(current, templateOf(workload));
      if ('error' in now || now.appPort !== appPort) {
        throw new CoreError({
          kind: 'conflict',
          message: `Port ${port.port} of Service ${target.service} was changed to target ${String(current.targetPort ?? current.port)} while Intercept was moving it (it targeted port ${appPort}).`,
          hint: 'Intercept undid its change and left theirs; intercept again.',
        });
      }
      return serviceInterceptPatch(svc, current, listenPort);
    });
  }

  private restoreServicePort(target: Omit<ServiceTarget, 'port'>, key: string): Promise<V1Service> {
    return this.patchService(target, (svc) => serviceRestorePatch(svc, key));
  }

  /** What a removal works on, read once: the Service, its workload and the injection record. */
  async resolveRemoval(target: Omit<ServiceTarget, 'port'>): Promise<Removal> {
    this.step('resolve', `Reading Service ${target.namespace}/${target.service}`);
    const service = await readService(this.opts.client, target.namespace, target.service);
    const workload = await workloadOf(this.opts.client, service);
    return { service, workload, record: readInjection(workload.object.metadata?.annotations) };
  }

  /**
   * Takes the sidecar away from a Service: its intercepted ports back first, then, once no Service
   * routes through the sidecar any more, the sidecar itself. Whether claims are held is the caller's
   * to check first (see removeProxy), with what `resolveRemoval` read.
   */
  async remove(target: Omit<ServiceTarget, 'port'>, opts: { signal?: AbortSignal } = {}, resolved?: Removal): Promise<{ workload: Workload; removedSidecar: boolean }> {
    const { client } = this.opts;
    const { service, workload, record } = resolved ?? (await this.resolveRemoval(target));
    if (record) refuseIfPaused(workload, 'remove');
    for (const key of Object.keys(readServiceRecord(service))) {
      const port = service.spec?.ports?.find((p) => servicePortKey(p) === key);
      this.step('service', `Putting port ${key} of Service ${target.service} back`);
      const restored = await this.restoreServicePort(target, key);
      const now = restored.spec?.ports?.find((p) => servicePortKey(p) === key);
      if (port && now) {
        const back = resolveTargetPort(now, templateOf(workload));
        if (!('error' in back)) {
          this.step('endpoints', 'Waiting for the Service endpoints to follow');
          await waitForSlicePort(client, target.namespace, target.service, now.name ?? '', back.appPort, {
            ...(this.opts.endpointsTimeoutMs ? { timeoutMs: this.opts.endpointsTimeoutMs } : {}),
          });
        }
      }
    }
    if (!record) return { workload, removedSidecar: false };
    if (await this.otherServicesUse(workload, record, target.service)) {
      this.step('done', `The sidecar stays: another Service of ${workload.kind} ${workload.name} still routes through it`);
      return { workload, removedSidecar: false };
    }
    this.step('workload', `Removing the sidecar from ${workload.kind} ${workload.name}`);
    let current = await applyWorkload(client, workload, workloadRemoval(workload), FIELD_MANAGER);
    this.step('rollout', `Waiting for every pod of ${workload.kind} ${workload.name} to run without the sidecar`);
    current = await waitForRollout(client, current, {
      ...this.opts.rollout,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (progress, stall) => this.emit({ kind: 'rollout', progress, ...(stall ? { stall } : {}) }),
    });
    this.step('config-maps', 'Deleting the sidecar ConfigMaps no workload uses');
    await deleteConfigMap(client, workload.namespace, record.claimsConfigMap);
    if (!(await this.codeInUse(workload.namespace, record.codeConfigMap))) await deleteConfigMap(client, workload.namespace, record.codeConfigMap);
    this.step('done', `${workload.kind} ${workload.name} and Service ${target.service} are as they were`);
    return { workload: current, removedSidecar: true };
  }

  private async otherServicesUse(workload: Workload, record: InjectionRecord, except: string): Promise<boolean> {
    const { client } = this.opts;
    const namespace = workload.namespace;
    const list = await client.call({ verb: 'list', resource: 'services', namespace }, () => client.core.listNamespacedService({ namespace }));
    const listenPorts = new Set(record.ports.map((m) => m.listenPort));
    return list.items.some(
      (s) =>
        s.metadata?.name !== except &&
        selects(s.spec?.selector, templateOf(workload).metadata?.labels) &&
        Object.values(readServiceRecord(s)).some((e) => listenPorts.has(e.listenPort)),
    );
  }

  private async codeInUse(namespace: string, configMap: string): Promise<boolean> {
    return (await listWorkloads(this.opts.client, namespace)).some((w) => readInjection(w.object.metadata?.annotations)?.codeConfigMap === configMap);
  }
}

/**
 * A paused Deployment takes a change of its template but rolls nothing out, so adding or removing
 * the sidecar would only wait and then give up; refused before anything changes. (With the sidecar
 * already there, an intercept needs no rollout and a paused Deployment is intercepted as any other.)
 */
function refuseIfPaused(workload: Workload, action: 'intercept' | 'remove' = 'intercept'): void {
  if (workload.kind !== 'Deployment' || !workload.object.spec?.paused) return;
  throw notInterceptable(
    'paused',
    `Deployment ${workload.name} is paused (a rollout of it is on hold), so it would not roll out ${action === 'intercept' ? 'the sidecar' : 'the removal of the sidecar'}.`,
    `Resume it (kubectl rollout resume deployment/${workload.name} -n ${workload.namespace}), then ${action === 'intercept' ? 'intercept' : 'remove the proxy'} again${action === 'intercept' ? '; or intercept another workload' : ''}.`,
  );
}

/** A JSON patch whose `test` failed: the API server answers 422 (or 500 on old versions) naming the test. */
function isTestFailure(err: unknown): boolean {
  if (!(err instanceof CoreError)) return false;
  const f = err.failure;
  return (f.kind === 'rejected' || f.kind === 'unexpected') && /test operation|testing value|the server rejected our request due to an error in our request/i.test(f.message);
}
