// Announces a claim to the sidecars of a workload through their claims ConfigMap, so that a pod that
// starts before its tunnel arrives holds the claim's requests instead of giving them to the shared
// app (docs/tunnel-protocol.md, "Announced claims"). The entry expires unless renewed: a laptop that
// vanishes stops holding requests in new pods at the latest `ttlMs` later.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { announcedClaimFileName, leaseSha256, parseAnnouncedClaim, type AnnouncedClaim } from '../../protocol/announced-claim';
import type { Claim } from '../../protocol/claim';
import { isStatus } from '../kube/api-errors';
import type { KubeClient } from '../kube/kube-client';
import { FIELD_MANAGER } from './names';

export interface AnnouncementOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly configMap: string;
  readonly port: number;
  readonly claim: Claim;
  readonly developer: string;
  readonly lease: string;
  readonly ttlMs?: number;
  readonly renewEveryMs?: number;
  readonly now?: () => number;
  readonly onError?: (err: Error) => void;
}

export const DEFAULT_ANNOUNCE_TTL_MS = 30_000;
export const DEFAULT_ANNOUNCE_RENEW_MS = 10_000;

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class ClaimAnnouncement {
  private timer: NodeJS.Timeout | undefined;
  readonly key: string;

  constructor(private readonly opts: AnnouncementOptions) {
    this.key = announcedClaimFileName(opts.port, opts.claim.header, opts.claim.value);
  }

  /** Another live announcement of the same claim, by a different holder, if there is one. */
  async liveHolder(): Promise<string | undefined> {
    const { client, namespace, configMap } = this.opts;
    try {
      const cm = await client.call({ verb: 'get', resource: 'configmaps', namespace, name: configMap }, () => client.core.readNamespacedConfigMap({ namespace, name: configMap }));
      const text = cm.data?.[this.key];
      if (!text) return undefined;
      const parsed = parseAnnouncedClaim(text);
      const now = (this.opts.now ?? Date.now)();
      if (parsed.ok && parsed.expiresAtMs > now && parsed.claim.leaseSha256 !== leaseSha256(this.opts.lease)) return parsed.claim.developer;
      return undefined;
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  /** Writes the entry now and renews it until withdraw(). */
  async announce(): Promise<void> {
    await this.write();
    this.timer = setInterval(() => {
      this.write().catch((err: unknown) => this.opts.onError?.(err as Error));
    }, this.opts.renewEveryMs ?? DEFAULT_ANNOUNCE_RENEW_MS);
    this.timer.unref();
  }

  entry(): AnnouncedClaim {
    const { port, claim, developer, lease } = this.opts;
    const expires = (this.opts.now ?? Date.now)() + (this.opts.ttlMs ?? DEFAULT_ANNOUNCE_TTL_MS);
    return {
      v: 1,
      port,
      header: claim.header.toLowerCase(),
      value: claim.value,
      developer,
      leaseSha256: leaseSha256(lease),
      // Whole seconds, rounded up: the format takes fractions, but seconds read better.
      expiresAt: new Date(Math.ceil(expires / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    };
  }

  private async write(): Promise<void> {
    await this.patch({ data: { [this.key]: JSON.stringify(this.entry()) } });
  }

  /** Stops renewing and removes the entry (a missing ConfigMap or key is fine). */
  async withdraw(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.patch({ data: { [this.key]: null } });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  private async patch(body: object): Promise<void> {
    const { client, namespace, configMap } = this.opts;
    await client.call({ verb: 'patch', resource: 'configmaps', namespace, name: configMap }, () =>
      client.core.patchNamespacedConfigMap({ namespace, name: configMap, body, fieldManager: FIELD_MANAGER }, mergePatch()),
    );
  }
}
