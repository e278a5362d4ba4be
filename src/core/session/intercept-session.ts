// One developer's intercept of one Service port: a tunnel to every ready pod that runs the sidecar
// with this port (rule 4: pods that come are joined, pods that go are dropped), all with the same
// claim and lease, plus the claim announced in the workload's claims ConfigMap for pods that start
// before their tunnel arrives (rule 2). stop() releases the claim on every pod at once.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { V1Pod } from '@kubernetes/client-node';
import type { Claim } from '../../protocol/claim';
import { CoreError } from '../errors';
import type { KubeClient } from '../kube/kube-client';
import { openPortForward } from '../kube/port-forward';
import { isPodReady, PodWatch } from '../kube/pod-watch';
import { labelSelectorOf } from '../kube/workload-api';
import { backoffDelay, DEFAULT_BACKOFF } from '../tunnel/backoff';
import type { TunnelError } from '../tunnel/errors';
import type { InterceptedRequest } from '../tunnel/exchange-observer';
import type { LocalTarget } from '../tunnel/local-bridge';
import { TunnelClient, type TunnelClientOptions, type TunnelState } from '../tunnel/tunnel-client';
import { ClaimAnnouncement } from './claim-announcement';
import type { Injection } from './injector';
import { SIDECAR_CONTAINER } from './names';

export type PodTunnelState = TunnelState | 'failed';

/** A pod's sidecar serves at most its shutdown delay plus its drain time after SIGTERM (5 + 20 s). */
const LEAVING_POD_MAX_MS = 60_000;

export type SessionState = 'starting' | 'active' | 'stopping' | 'stopped';

export interface InterceptSessionEvents {
  state: [state: SessionState];
  /** The tunnel to one pod changed state; `detail` says why it failed. */
  pod: [pod: string, state: PodTunnelState, detail?: string];
  request: [request: InterceptedRequest & { readonly pod: string }];
  localError: [code: string, address: string, pod: string];
  warning: [message: string];
  /** The session ended on its own: the claim was lost or taken over. */
  ended: [error: CoreError];
}

export interface InterceptSessionOptions {
  readonly client: KubeClient;
  readonly injection: Pick<Injection, 'workload' | 'record' | 'listenPort'>;
  readonly claim: Claim;
  readonly developer: string;
  readonly local: LocalTarget;
  readonly lease?: string;
  readonly announce?: { readonly ttlMs?: number; readonly renewEveryMs?: number };
  readonly tunnel?: Pick<TunnelClientOptions, 'backoff' | 'heartbeatMs' | 'handshakeTimeoutMs'>;
}

interface PodTunnel {
  readonly client: TunnelClient;
  attempts: number;
  retry?: NodeJS.Timeout;
}

/** Does this pod run the sidecar with the listen port of this intercept? */
export function servesPort(pod: V1Pod, listenPort: number): boolean {
  const sidecar = pod.spec?.containers.find((c) => c.name === SIDECAR_CONTAINER);
  const args = sidecar?.args ?? [];
  return args.some((a, i) => args[i - 1] === '--listen' && a.startsWith(`${listenPort}:`));
}

export class InterceptSession extends EventEmitter<InterceptSessionEvents> {
  readonly lease: string;
  private readonly tunnels = new Map<string, PodTunnel>();
  /** Tunnels of pods that are going away, kept until their sidecar ends them. */
  private readonly leaving = new Set<TunnelClient>();
  private readonly watch: PodWatch;
  private readonly announcement: ClaimAnnouncement;
  private stopped = false;
  private stateValue: SessionState = 'starting';

  constructor(private readonly opts: InterceptSessionOptions) {
    super();
    this.lease = opts.lease ?? randomBytes(18).toString('base64url');
    const w = opts.injection.workload;
    this.watch = new PodWatch(opts.client, w.namespace, labelSelectorOf(w));
    this.announcement = new ClaimAnnouncement({
      client: opts.client,
      namespace: w.namespace,
      configMap: opts.injection.record.claimsConfigMap,
      port: opts.injection.listenPort,
      claim: opts.claim,
      developer: opts.developer,
      lease: this.lease,
      ...opts.announce,
      onError: (err) => this.emit('warning', `Renewing the claim announcement failed: ${err.message}`),
    });
  }

  get state(): SessionState {
    return this.stateValue;
  }

  private setState(state: SessionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  /** Pods with a tunnel and its state. */
  pods(): Map<string, TunnelState> {
    return new Map([...this.tunnels].map(([pod, t]) => [pod, t.client.state]));
  }

  /**
   * Opens the tunnels to the pods that are ready now and announces the claim. Rejects with
   * `claim-held` (nothing left behind) when another developer holds it.
   */
  async start(): Promise<void> {
    await this.watch.start();
    const ready = [...this.watch.current().values()].filter((p) => this.eligible(p));
    if (ready.length === 0) {
      const holder = await this.announcement.liveHolder();
      if (holder !== undefined) await this.refuse(holder);
    }
    const results = await Promise.allSettled(ready.map((p) => this.open(p.metadata!.name!)));
    for (const r of results) {
      const failure = r.status === 'rejected' ? (r.reason as TunnelError).failure : undefined;
      if (failure?.kind === 'claim-held') await this.refuse(failure.holder.developer);
    }
    await this.announcement.announce();
    this.watch.on('pods', (pods) => this.reconcile(pods));
    this.watch.on('error', (err) => this.emit('warning', `Watching the pods failed, retrying: ${err.message}`));
    this.reconcile(this.watch.current());
    this.setState('active');
  }

  private async refuse(holder: string): Promise<never> {
    await this.shutdown();
    this.setState('stopped');
    const { claim } = this.opts;
    throw new CoreError({
      kind: 'claim-held',
      holder,
      message: `${claim.header}: ${claim.value} is claimed by ${holder}.`,
      hint: 'Choose another header value, or ask them to stop their intercept.',
    });
  }

  private eligible(pod: V1Pod): boolean {
    return isPodReady(pod) && servesPort(pod, this.opts.injection.listenPort);
  }

  private reconcile(pods: ReadonlyMap<string, V1Pod>): void {
    if (this.stopped) return;
    for (const [name, pod] of pods) if (!this.tunnels.has(name) && this.eligible(pod)) void this.open(name).catch(() => undefined);
    for (const name of [...this.tunnels.keys()]) {
      const pod = pods.get(name);
      if (!pod || pod.metadata?.deletionTimestamp) this.drop(name);
    }
  }

  /** Opens (or retries) the tunnel to one pod; rejects with the first attempt's TunnelError. */
  private async open(pod: string): Promise<void> {
    const { client, injection, claim, developer, local } = this.opts;
    const tunnel = new TunnelClient({
      dial: () => openPortForward(client.apiServerAccess(), injection.workload.namespace, pod, injection.record.controlPort),
      claim,
      developer,
      port: injection.listenPort,
      local,
      lease: this.lease,
      ...this.opts.tunnel,
    });
    const previous = this.tunnels.get(pod);
    const entry: PodTunnel = { client: tunnel, attempts: (previous?.attempts ?? 0) + 1 };
    this.tunnels.set(pod, entry);
    tunnel.on('state', (s) => this.emit('pod', pod, s));
    tunnel.on('request', (r) => this.emit('request', { ...r, pod }));
    tunnel.on('localError', (code, address) => this.emit('localError', code, address, pod));
    tunnel.on('failed', (err) => this.onTunnelFailed(pod, entry, err));
    try {
      await tunnel.start();
      entry.attempts = 0;
    } catch (err) {
      const e = err as TunnelError;
      this.emit('pod', pod, 'failed', e.message);
      if (e.failure?.kind !== 'claim-held' && !this.stopped) this.retryLater(pod, entry);
      throw err;
    }
  }

  private retryLater(pod: string, entry: PodTunnel): void {
    entry.retry = setTimeout(() => {
      if (this.stopped || this.tunnels.get(pod) !== entry) return;
      const current = this.watch.current().get(pod);
      if (!current || !this.eligible(current)) {
        this.tunnels.delete(pod);
        return;
      }
      this.open(pod).catch((err: TunnelError) => {
        if (err.failure?.kind === 'claim-held') this.end(err);
      });
    }, backoffDelay(entry.attempts, DEFAULT_BACKOFF));
  }

  private onTunnelFailed(pod: string, entry: PodTunnel, err: TunnelError): void {
    this.emit('pod', pod, 'failed', err.message);
    if (this.stopped || this.tunnels.get(pod) !== entry) return;
    if (err.failure.kind === 'replaced') {
      // The same lease took the claim over on this pod (a reconnect of ours): nothing to do.
      this.tunnels.delete(pod);
      return;
    }
    this.end(err);
  }

  private end(err: TunnelError): void {
    if (this.stopped) return;
    const error = new CoreError(
      err.failure.kind === 'claim-held'
        ? { kind: 'claim-held', holder: err.failure.holder.developer, message: err.message, hint: 'Start the intercept again with another value, or ask them to stop.' }
        : { kind: 'unexpected', message: `The intercept ended: ${err.message}`, hint: 'Start it again.' },
    );
    void this.stop().finally(() => this.emit('ended', error));
  }

  /** A pod that goes away: its tunnel stays while its sidecar still serves (see TunnelClient.abandon). */
  private drop(pod: string): void {
    const t = this.tunnels.get(pod);
    if (!t) return;
    this.tunnels.delete(pod);
    clearTimeout(t.retry);
    this.leaving.add(t.client);
    void t.client.abandon(LEAVING_POD_MAX_MS).finally(() => this.leaving.delete(t.client));
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.setState('stopping');
    await this.watch.stop();
    const all = [...this.tunnels.values()];
    this.tunnels.clear();
    for (const t of all) clearTimeout(t.retry);
    const leaving = [...this.leaving];
    this.leaving.clear();
    await Promise.all([...all.map((t) => t.client.close()), ...leaving.map((c) => c.close())]);
  }

  /** Releases the claim on every pod and withdraws the announcement. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.shutdown();
    await this.announcement.withdraw();
    this.setState('stopped');
  }
}
