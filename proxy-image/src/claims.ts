// Who holds which route, and the lease that keeps it: a claim lives while its tunnel does. Closing a
// tunnel on purpose releases the claim at once; a tunnel that drops starts a grace period in which
// requests for the claim wait for the same holder to reconnect, and after which they are answered
// 503 and the claim is released.
import type { ClaimTable } from './match';
import type { Logger } from './log';

export interface ClaimRequest {
  readonly port: number;
  /** Lower-case header name. */
  readonly header: string;
  readonly value: string;
  readonly developer: string;
  /** Secret of the holder, the same across its reconnects. */
  readonly lease: string;
}

export interface ClaimRecord<L> extends ClaimRequest {
  readonly since: number;
  link: L | null;
  graceEndsAt: number | null;
}

/** What the status endpoint shows and a refusal names; never the lease. */
export interface ClaimInfo {
  readonly port: number;
  readonly header: string;
  readonly value: string;
  readonly developer: string;
  readonly since: string;
  readonly state: 'connected' | 'grace';
  readonly graceEndsAt?: string;
}

export type ClaimOutcome<L> =
  /** `replaced`: the holder's previous tunnel, still open, that the new one takes over from. */
  | { ok: true; record: ClaimRecord<L>; resumed: boolean; replaced?: L }
  | { ok: false; holder: ClaimInfo };
export type Route<L> =
  | { kind: 'link'; link: L }
  /** The grace period ran out: the holder's tunnel is gone. */
  | { kind: 'expired'; record: ClaimRecord<L> }
  /** The holder released the claim on purpose: the request is unclaimed now. */
  | { kind: 'released' };

interface Pending<L> {
  timer: NodeJS.Timeout;
  waiters: Array<(r: Route<L>) => void>;
}

export class ClaimRegistry<L> {
  private readonly byPort = new Map<number, Map<string, Map<string, ClaimRecord<L>>>>();
  private readonly pending = new Map<ClaimRecord<L>, Pending<L>>();

  constructor(
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {}

  /** The claims of one listen port, for matching; undefined when there are none. */
  table(port: number): ClaimTable<ClaimRecord<L>> | undefined {
    return this.byPort.get(port);
  }

  find(port: number, header: string, value: string): ClaimRecord<L> | undefined {
    return this.byPort.get(port)?.get(header)?.get(value);
  }

  /**
   * Who keeps `req` from being granted now: another holder. The same lease proves the same holder,
   * so it is granted even while its previous tunnel still looks connected (a laptop that slept or
   * changed networks reconnects before the sidecar notices the old tunnel is dead).
   */
  conflict(req: ClaimRequest): ClaimInfo | undefined {
    const existing = this.find(req.port, req.header, req.value);
    return existing !== undefined && existing.lease !== req.lease ? infoOf(existing) : undefined;
  }

  claim(req: ClaimRequest, link: L): ClaimOutcome<L> {
    const holder = this.conflict(req);
    if (holder !== undefined) {
      this.log.info('claim refused', { ...fieldsOf(req), holder: holder.developer });
      return { ok: false, holder };
    }
    const existing = this.find(req.port, req.header, req.value);
    if (existing !== undefined) {
      const replaced = existing.link ?? undefined;
      existing.link = link;
      existing.graceEndsAt = null;
      this.settle(existing, { kind: 'link', link });
      this.log.info(replaced === undefined ? 'claim resumed' : 'claim taken over by a new tunnel of the same holder', fieldsOf(existing));
      return { ok: true, record: existing, resumed: true, ...(replaced === undefined ? {} : { replaced }) };
    }
    const record: ClaimRecord<L> = { ...req, since: Date.now(), link, graceEndsAt: null };
    let headers = this.byPort.get(req.port);
    if (headers === undefined) this.byPort.set(req.port, (headers = new Map<string, Map<string, ClaimRecord<L>>>()));
    let values = headers.get(req.header);
    if (values === undefined) headers.set(req.header, (values = new Map<string, ClaimRecord<L>>()));
    values.set(req.value, record);
    this.log.info('claim made', fieldsOf(record));
    return { ok: true, record, resumed: false };
  }

  /** The holder closed its tunnel on purpose: the claim ends now. */
  release(record: ClaimRecord<L>, link: L): void {
    if (record.link !== link) return; // an older tunnel of a resumed claim
    record.link = null;
    this.remove(record);
    this.log.info('claim released', fieldsOf(record));
  }

  /** The tunnel dropped: requests wait up to the grace period for the holder to come back. */
  drop(record: ClaimRecord<L>, link: L): void {
    if (record.link !== link) return;
    record.link = null;
    record.graceEndsAt = Date.now() + this.graceMs;
    const timer = setTimeout(() => this.expire(record), this.graceMs);
    this.pending.set(record, { timer, waiters: [] });
    this.log.warn('tunnel dropped, grace period started', { ...fieldsOf(record), graceMs: this.graceMs });
  }

  /** Where a request matching `record` goes: its tunnel now, or once the holder is back or gone. */
  route(record: ClaimRecord<L>): Route<L> | Promise<Route<L>> {
    if (record.link !== null) return { kind: 'link', link: record.link };
    const p = this.pending.get(record);
    if (p !== undefined) return new Promise((resolve) => p.waiters.push(resolve));
    // Only a drop sets a grace end: a record without one and without a link was released.
    return record.graceEndsAt !== null ? { kind: 'expired', record } : { kind: 'released' };
  }

  list(): ClaimInfo[] {
    const out: ClaimInfo[] = [];
    for (const headers of this.byPort.values()) for (const values of headers.values()) for (const r of values.values()) out.push(infoOf(r));
    return out;
  }

  /** Ends every grace period at once (shutdown); waiting requests are answered as expired. */
  close(): void {
    for (const record of [...this.pending.keys()]) this.expire(record);
  }

  private expire(record: ClaimRecord<L>): void {
    this.log.warn('grace period over, claim released', fieldsOf(record));
    this.remove(record);
    this.settle(record, { kind: 'expired', record });
  }

  private settle(record: ClaimRecord<L>, route: Route<L>): void {
    const p = this.pending.get(record);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(record);
    for (const w of p.waiters) w(route);
  }

  private remove(record: ClaimRecord<L>): void {
    const headers = this.byPort.get(record.port);
    const values = headers?.get(record.header);
    if (values?.get(record.value) !== record) return;
    values.delete(record.value);
    if (values.size === 0) headers!.delete(record.header);
    if (headers!.size === 0) this.byPort.delete(record.port);
    const p = this.pending.get(record);
    if (p !== undefined && p.waiters.length === 0) {
      clearTimeout(p.timer);
      this.pending.delete(record);
    }
  }
}

function fieldsOf(r: ClaimRequest): Record<string, string | number> {
  return { port: r.port, header: r.header, value: r.value, developer: r.developer };
}

function infoOf<L>(r: ClaimRecord<L>): ClaimInfo {
  return {
    port: r.port,
    header: r.header,
    value: r.value,
    developer: r.developer,
    since: new Date(r.since).toISOString(),
    state: r.link !== null ? 'connected' : 'grace',
    ...(r.graceEndsAt !== null ? { graceEndsAt: new Date(r.graceEndsAt).toISOString() } : {}),
  };
}
