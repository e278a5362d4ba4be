// The intercepts one editor window (or one process) holds: start (inject when needed, then tunnels to
// every pod), pause (claims released, the proxy kept), resume, stop, and a summary state for the UI.
// Each intercept keeps its lease across pause and resume, so teammates see one holder throughout.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { leaseSha256 } from '../../protocol/announced-claim';
import type { Claim } from '../../protocol/claim';
import { CoreError } from '../errors';
import type { KubeClient } from '../kube/kube-client';
import type { InterceptedRequest } from '../tunnel/exchange-observer';
import { readInjection, planInjection } from './injection-plan';
import { Injector, type InjectEvent, type Injection, type ServiceTarget } from './injector';
import { InterceptSession, type PodTunnelState } from './intercept-session';
import { templateOf } from '../kube/workloads';
import { gitOpsController } from './gitops';
import type { SidecarBuild } from './sidecar-build';

export type InterceptStatus = 'connecting' | 'active' | 'reconnecting' | 'paused' | 'local-refused' | 'stopped';

export interface InterceptsOptions {
  /** The cluster client of the chosen context. */
  readonly client: () => KubeClient;
  readonly build: () => Promise<SidecarBuild>;
  /** Who holds the claims, as teammates see it. */
  readonly developer: string;
  /** Another sidecar image than the stock Node one. */
  readonly image?: () => string | undefined;
  /** The sidecar's grace period for dropped tunnels, when this window adds the sidecar to a workload. */
  readonly graceSeconds?: () => number | undefined;
  /** A proxy added now lets claim holders call out from the pod. */
  readonly outbound?: () => boolean;
}

export interface StartOptions {
  readonly claim: Claim;
  readonly localPort: number;
  readonly acceptGitOps?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (e: InjectEvent) => void;
}

/** What a first injection would change, for the confirmation the editor asks. */
export interface InjectionPreview {
  readonly workload: string;
  readonly replicas: number;
  /** False when the sidecar already serves this port: nothing restarts. */
  readonly changesWorkload: boolean;
  readonly appPort: number;
  readonly servicePort: number;
  readonly gitOps?: string;
}

export interface RequestEvent extends InterceptedRequest {
  readonly pod: string;
}

export interface InterceptsEvents {
  changed: [intercept: Intercept];
  /** The tunnel to one pod changed state; `detail` says why it failed. */
  pod: [intercept: Intercept, pod: string, state: PodTunnelState, detail?: string];
  request: [intercept: Intercept, request: RequestEvent];
  localError: [intercept: Intercept, code: string, address: string, pod: string];
  warning: [intercept: Intercept, message: string];
  /** An intercept ended on its own (claim lost, taken over). */
  ended: [intercept: Intercept, error: CoreError];
}

/** A local refusal shows for this long after the last one, unless a request succeeds meanwhile. */
const LOCAL_REFUSAL_SHOWS_MS = 15_000;

export class Intercept {
  readonly id: string;
  readonly lease = randomBytes(18).toString('base64url');
  readonly startedAt = Date.now();
  session: InterceptSession | undefined;
  status: InterceptStatus = 'connecting';
  readonly pods = new Map<string, PodTunnelState>();
  lastLocalRefusal = 0;

  constructor(
    readonly context: string,
    readonly injection: Injection,
    readonly claim: Claim,
    readonly localPort: number,
  ) {
    this.id = Intercept.idOf(context, injection.workload.namespace, injection.service.metadata!.name!, injection.servicePort.port);
  }

  static idOf(context: string, namespace: string, service: string, port: number): string {
    return `${context}/${namespace}/${service}:${port}`;
  }

  get namespace(): string {
    return this.injection.workload.namespace;
  }

  get service(): string {
    return this.injection.service.metadata!.name!;
  }

  get port(): number {
    return this.injection.servicePort.port;
  }
}

export class Intercepts extends EventEmitter<InterceptsEvents> {
  private readonly active = new Map<string, Intercept>();

  constructor(private readonly opts: InterceptsOptions) {
    super();
  }

  list(): Intercept[] {
    return [...this.active.values()];
  }

  get(id: string): Intercept | undefined {
    return this.active.get(id);
  }

  find(namespace: string, service: string, port?: number): Intercept | undefined {
    return this.list().find((i) => i.namespace === namespace && i.service === service && (port === undefined || i.port === port));
  }

  /** SHA-256 of every lease held here, to tell this window's claims from teammates'. */
  leaseHashes(): Set<string> {
    return new Set(this.list().map((i) => leaseSha256(i.lease)));
  }

  private async injector(onEvent?: (e: InjectEvent) => void): Promise<Injector> {
    const image = this.opts.image?.();
    const graceSeconds = this.opts.graceSeconds?.();
    const outbound = this.opts.outbound?.() === true;
    return new Injector({
      client: this.opts.client(),
      build: await this.opts.build(),
      ...(image ? { image } : {}),
      ...(graceSeconds !== undefined ? { graceSeconds } : {}),
      ...(outbound ? { outbound } : {}),
      ...(onEvent ? { onEvent } : {}),
    });
  }

  /** What an intercept of `target` would change; reads only. */
  async preview(target: ServiceTarget): Promise<InjectionPreview> {
    const injector = await this.injector();
    const { workload, appPort, servicePort } = await injector.resolve(target);
    const build = await this.opts.build();
    const existing = readInjection(workload.object.metadata?.annotations);
    const plan = planInjection(templateOf(workload), existing, appPort, {
      version: build.version,
      sha256: build.sha256,
      image: 'unused',
      codeConfigMap: 'unused',
      claimsConfigMap: 'unused',
    });
    const gitOps = gitOpsController(workload.object.metadata);
    return {
      workload: `${workload.kind}/${workload.name}`,
      replicas: workload.object.spec?.replicas ?? 1,
      changesWorkload: plan.changed,
      appPort,
      servicePort: servicePort.port,
      ...(gitOps ? { gitOps } : {}),
    };
  }

  async start(target: ServiceTarget, o: StartOptions): Promise<Intercept> {
    const client = this.opts.client();
    const injector = await this.injector(o.onProgress);
    const injection = await injector.inject(target, { ...(o.acceptGitOps ? { acceptGitOps: true } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    if (o.signal?.aborted) throw new CoreError({ kind: 'cancelled', message: 'Cancelled.', hint: 'Nothing is intercepted; the proxy stays in place, idle.' });
    const intercept = new Intercept(client.context, injection, o.claim, o.localPort);
    const existing = this.active.get(intercept.id);
    if (existing) await this.stop(existing.id);
    this.active.set(intercept.id, intercept);
    try {
      await this.connect(intercept);
    } catch (err) {
      this.active.delete(intercept.id);
      throw err;
    }
    return intercept;
  }

  private async connect(i: Intercept): Promise<void> {
    const session = new InterceptSession({
      client: this.opts.client(),
      injection: i.injection,
      claim: i.claim,
      developer: this.opts.developer,
      local: { host: '127.0.0.1', port: i.localPort },
      lease: i.lease,
    });
    i.session = session;
    i.pods.clear();
    this.setStatus(i, 'connecting');
    session.on('pod', (pod, state, detail) => {
      if (state === 'closed') i.pods.delete(pod);
      else i.pods.set(pod, state);
      this.emit('pod', i, pod, state, detail);
      this.refreshStatus(i);
    });
    session.on('request', (r) => {
      if (r.status > 0) i.lastLocalRefusal = 0;
      this.refreshStatus(i);
      this.emit('request', i, r);
    });
    session.on('localError', (code, address, pod) => {
      i.lastLocalRefusal = Date.now();
      this.refreshStatus(i);
      this.emit('localError', i, code, address, pod);
    });
    session.on('warning', (m) => this.emit('warning', i, m));
    session.once('ended', (error) => {
      if (this.active.get(i.id) !== i) return;
      this.active.delete(i.id);
      this.setStatus(i, 'stopped');
      this.emit('ended', i, error);
    });
    await session.start();
    this.refreshStatus(i);
  }

  private refreshStatus(i: Intercept): void {
    if (i.status === 'paused' || i.status === 'stopped') return;
    const states = [...i.pods.values()];
    let status: InterceptStatus;
    if (i.lastLocalRefusal > 0 && Date.now() - i.lastLocalRefusal < LOCAL_REFUSAL_SHOWS_MS) status = 'local-refused';
    else if (states.some((s) => s === 'reconnecting' || s === 'failed')) status = 'reconnecting';
    else if (states.length > 0 && states.every((s) => s === 'connected')) status = 'active';
    else status = 'connecting';
    this.setStatus(i, status);
  }

  private setStatus(i: Intercept, status: InterceptStatus): void {
    if (i.status === status) return;
    i.status = status;
    this.emit('changed', i);
  }

  /** Releases the claims on every pod and keeps the intercept to resume later. */
  async pause(id: string): Promise<void> {
    const i = this.active.get(id);
    if (!i || i.status === 'paused') return;
    const session = i.session;
    i.session = undefined;
    this.setStatus(i, 'paused');
    await session?.stop();
  }

  async resume(id: string): Promise<void> {
    const i = this.active.get(id);
    if (!i || i.status !== 'paused') return;
    i.status = 'connecting';
    await this.connect(i);
  }

  async stop(id: string): Promise<void> {
    const i = this.active.get(id);
    if (!i) return;
    this.active.delete(id);
    const session = i.session;
    i.session = undefined;
    await session?.stop();
    this.setStatus(i, 'stopped');
  }

  /** Releases every claim this holds; for the window closing. */
  async stopAll(): Promise<void> {
    await Promise.all(this.list().map((i) => this.stop(i.id)));
  }
}
