// The outbound connections of this window's intercepts, one InterceptOutbound per intercept, opened
// when first asked for and closed when the intercept stops or ends.
import type { KubeClient } from '../kube/kube-client';
import { openPortForward } from '../kube/port-forward';
import type { Intercept, Intercepts } from '../session/intercepts';
import { InterceptOutbound } from './intercept-outbound';

export interface InterceptOutboundsOptions {
  readonly intercepts: Intercepts;
  readonly client: () => KubeClient;
  /** Whether plain-HTTP requests through the proxy get the developer's header when they lack it. */
  readonly propagateHeader: () => boolean;
  readonly onError?: (i: Intercept, destination: string, err: Error) => void;
}

export class InterceptOutbounds {
  private readonly open = new Map<string, { intercept: Intercept; outbound: InterceptOutbound }>();
  private readonly onChanged = (i: Intercept) => {
    // A paused intercept holds no claim, so the sidecar would refuse the session: it opens anew on resume.
    if (i.status === 'stopped' || i.status === 'paused') void this.close(i);
  };

  constructor(private readonly opts: InterceptOutboundsOptions) {
    // An intercept that ends on its own is set to 'stopped' first, so 'changed' covers it too.
    opts.intercepts.on('changed', this.onChanged);
  }

  /** The intercept's outbound connections, opened on first use (`start` them before use). */
  of(i: Intercept): InterceptOutbound {
    const known = this.open.get(i.id);
    if (known?.intercept === i) return known.outbound;
    if (known) void known.outbound.close();
    const client = this.opts.client();
    const outbound = new InterceptOutbound({
      // Any pod where the claim is held will do: each dials from inside the same workload.
      dial: () => {
        const pod = [...i.pods].find(([, state]) => state === 'connected')?.[0];
        if (!pod) return Promise.reject(new Error(`no pod of ${i.injection.workload.kind} ${i.injection.workload.name} holds the claim now`));
        return openPortForward(client.apiServerAccess(), i.namespace, pod, i.injection.record.controlPort);
      },
      lease: i.lease,
      ...(this.opts.propagateHeader() ? { propagate: { header: i.claim.header, value: i.claim.value } } : {}),
      onError: (destination, err) => this.opts.onError?.(i, destination, err),
    });
    this.open.set(i.id, { intercept: i, outbound });
    return outbound;
  }

  private async close(i: Intercept): Promise<void> {
    const known = this.open.get(i.id);
    if (known?.intercept !== i) return;
    this.open.delete(i.id);
    await known.outbound.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((o) => o.outbound.close()));
  }

  dispose(): void {
    this.opts.intercepts.off('changed', this.onChanged);
  }
}
