// Follows the pods of a workload: a list, then a watch from its resourceVersion, started again from a
// fresh list (after a backoff) whenever it ends. Each change is reported as the whole set of pods,
// so a missed event never leaves a stale pod behind.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { backoffDelay, DEFAULT_BACKOFF } from '../tunnel/backoff';
import type { KubeClient } from './kube-client';
import { watchOnce } from './watch-once';

export interface PodWatchEvents {
  pods: [pods: ReadonlyMap<string, V1Pod>];
  error: [error: Error];
}

export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export class PodWatch extends EventEmitter<PodWatchEvents> {
  private readonly pods = new Map<string, V1Pod>();
  private abort: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly labelSelector: string,
  ) {
    super();
  }

  /** Lists the pods (reported before this resolves), then keeps watching until stop(). */
  async start(): Promise<void> {
    const rv = await this.resync();
    this.loop = this.watchForever(rv);
  }

  current(): ReadonlyMap<string, V1Pod> {
    return this.pods;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
  }

  private async resync(): Promise<string> {
    const { namespace, labelSelector } = this;
    const list = await this.client.call({ verb: 'list', resource: 'pods', namespace }, () => this.client.core.listNamespacedPod({ namespace, labelSelector }));
    this.pods.clear();
    for (const p of list.items) this.pods.set(p.metadata!.name!, p);
    this.emit('pods', this.pods);
    return list.metadata?.resourceVersion ?? '';
  }

  private async watchForever(startRv: string): Promise<void> {
    let rv = startRv;
    let failures = 0;
    while (!this.stopped) {
      const ended = watchOnce<V1Pod>(
        this.client.kc,
        `/api/v1/namespaces/${this.namespace}/pods`,
        { labelSelector: this.labelSelector, resourceVersion: rv, allowWatchBookmarks: true },
        (phase, pod) => {
          if (pod?.metadata?.resourceVersion) rv = pod.metadata.resourceVersion;
          const name = pod?.metadata?.name;
          if (!name || phase === 'BOOKMARK') return;
          failures = 0;
          if (phase === 'DELETED') this.pods.delete(name);
          else this.pods.set(name, pod);
          this.emit('pods', this.pods);
        },
        (abort) => {
          this.abort = abort;
          if (this.stopped) abort.abort();
        },
      );
      const err = await ended;
      if (this.stopped) break;
      if (err instanceof Error) this.emit('error', err);
      failures++;
      await sleep(backoffDelay(failures, DEFAULT_BACKOFF));
      if (this.stopped) break;
      try {
        rv = await this.resync();
      } catch (e) {
        this.emit('error', e as Error);
      }
    }
  }
}
