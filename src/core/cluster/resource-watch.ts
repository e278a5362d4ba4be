// Tells when anything the Services tree shows may have changed in one namespace: Services, the
// workloads and Intercept's own ConfigMaps (announced claims). One watch per kind, each started again
// after a backoff when it ends; the tree reloads (debounced) on `changed` rather than patching itself,
// so a missed event never leaves it stale for long.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../kube/kube-client';
import { watchOnce } from '../kube/watch-once';
import { LABEL_MANAGED, LABEL_MANAGED_VALUE } from '../session/names';
import { backoffDelay, DEFAULT_BACKOFF } from '../tunnel/backoff';

export interface NamespaceWatchEvents {
  changed: [];
  error: [error: Error];
}

const MANAGED = `${LABEL_MANAGED}=${LABEL_MANAGED_VALUE}`;

interface Watched {
  readonly path: (ns: string) => string;
  readonly labelSelector?: string;
  /** The collection's resourceVersion now, so the watch reports only what changes after it. */
  readonly version: (client: KubeClient, namespace: string) => Promise<string | undefined>;
}

// `limit: 1`: only the collection's resourceVersion is wanted.
const WATCHED: readonly Watched[] = [
  { path: (ns) => `/api/v1/namespaces/${ns}/services`, version: async (c, namespace) => (await c.core.listNamespacedService({ namespace, limit: 1 })).metadata?.resourceVersion },
  { path: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`, version: async (c, namespace) => (await c.apps.listNamespacedDeployment({ namespace, limit: 1 })).metadata?.resourceVersion },
  { path: (ns) => `/apis/apps/v1/namespaces/${ns}/statefulsets`, version: async (c, namespace) => (await c.apps.listNamespacedStatefulSet({ namespace, limit: 1 })).metadata?.resourceVersion },
  {
    path: (ns) => `/api/v1/namespaces/${ns}/configmaps`,
    labelSelector: MANAGED,
    version: async (c, namespace) => (await c.core.listNamespacedConfigMap({ namespace, limit: 1, labelSelector: MANAGED })).metadata?.resourceVersion,
  },
];

export class NamespaceWatch extends EventEmitter<NamespaceWatchEvents> {
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly aborts = new Set<AbortController>();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
  ) {
    super();
  }

  start(): void {
    this.loops = WATCHED.map((w) => this.watchForever(w));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const a of this.aborts) a.abort();
    await Promise.all(this.loops);
  }

  private async watchForever(w: Watched): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let resourceVersion: string | undefined;
      try {
        resourceVersion = await w.version(this.client, this.namespace);
      } catch (err) {
        // Not allowed to watch this kind (or the cluster is away): the tree still reloads on refresh.
        if (!this.stopped) this.emit('error', err as Error);
        failures++;
        await this.pause(failures);
        continue;
      }
      let running: AbortController | undefined;
      const ended = watchOnce(
        this.client.kc,
        w.path(this.namespace),
        { labelSelector: w.labelSelector, resourceVersion, allowWatchBookmarks: true },
        (phase) => {
          if (phase === 'BOOKMARK') return;
          failures = 0;
          this.emit('changed');
        },
        (abort) => {
          running = abort;
          this.aborts.add(abort);
          if (this.stopped) abort.abort();
        },
      );
      const err = await ended;
      if (running) this.aborts.delete(running); // a watch that ended needs no abort; restarts must not pile them up
      if (this.stopped) break;
      if (err instanceof Error) this.emit('error', err);
      failures++;
      await this.pause(failures);
      // Whatever happened while no watch ran is caught by one reload.
      if (!this.stopped) this.emit('changed');
    }
  }

  private pause(failures: number): Promise<void> {
    return sleep(backoffDelay(failures, DEFAULT_BACKOFF), undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }
}
