// Runs a container's readinessProbe (readiness-probe.ts) as a kubelet does, inside the pod's network
// namespace, against the pod IP unless the probe names a host. A container is not ready until
// successThreshold probes in a row succeeded, and stays ready until failureThreshold probes in a row
// failed. Each probe is bounded by timeoutSeconds.
import { setTimeout as sleep } from 'node:timers/promises';
import { connectInNetns } from './netns.js';
import type { ReadinessProbe } from './readiness-probe.js';
import { httpOverStream } from './service.js';

/** Runs one container's readinessProbe until stop(); calls onChange when its readiness flips. */
export class ReadinessProber {
  ready = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly probe: ReadinessProbe,
    private readonly netns: string,
    private readonly podIP: string,
    private readonly onChange: (ready: boolean) => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { initialDelayMs, periodMs, successThreshold, failureThreshold } = this.probe;
    let successes = 0;
    let failures = 0;
    if (!(await this.pause(initialDelayMs))) return;
    while (!this.abort.signal.aborted) {
      const ok = await this.probeOnce().then(
        () => true,
        () => false,
      );
      if (this.abort.signal.aborted) return;
      successes = ok ? successes + 1 : 0;
      failures = ok ? 0 : failures + 1;
      const next = ok ? (this.ready || successes >= successThreshold) : this.ready && failures < failureThreshold;
      if (next !== this.ready) {
        this.ready = next;
        this.onChange(next);
      }
      if (!(await this.pause(periodMs))) return;
    }
  }

  /** Resolves true after `ms`, false when stopped meanwhile. */
  private pause(ms: number): Promise<boolean> {
    return sleep(ms, true, { signal: this.abort.signal }).catch(() => false);
  }

  private async probeOnce(): Promise<string> {
    const { target, timeoutMs } = this.probe;
    const host = target.host ?? this.podIP;
    const socket = await connectInNetns(this.netns, target.port, { host, timeoutMs });
    if (target.kind === 'tcp') {
      socket.destroy();
      return `connected to ${host}:${target.port}`;
    }
    const authority = host.includes(':') ? `[${host}]:${target.port}` : `${host}:${target.port}`;
    const res = await httpOverStream(
      socket,
      { path: target.path, headers: { host: authority, 'user-agent': 'kube-probe/1.36', accept: '*/*', ...target.headers }, timeoutMs },
      `readiness probe ${authority}${target.path}`,
    );
    if (res.status < 200 || res.status >= 400) throw new Error(`HTTP probe failed with statuscode: ${res.status}`);
    return `HTTP ${res.status}`;
  }
}
