// Who holds which route, and the lease that keeps it: a claim lives while its tunnel does. Closing a
// tunnel on purpose releases the claim at once; a tunnel that drops starts a grace period in which
// requests for the claim wait for the same holder to reconnect, and after which they are answered
// 503 and the claim is released.
//
// Claims announced in the claims folder (a pod that started after the intercept began, whose tunnel
// is not there yet) sit in the same table as records without a tunnel, so matching stays one lookup:
// their requests wait for a tunnel with that claim, at most the grace period each. An announcement
// never decides who gets a claim; it only counts while no tunnel holds or graces it.
import { leaseSha256 } from '../../src/protocol/announced-claim';
import type { ClaimTable } from './match';
import type { Logger } from './log';
import type { ClaimInfo } from '../../src/protocol/status';

export type { ClaimInfo };

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
  readonly kind: 'tunnel';
  readonly since: number;
  link: L | null;
  graceEndsAt: number | null;
}

/** What the claims folder says now about one port, header and value. */
export interface Announcement {
  readonly port: number;
  /** Lower-case header name. */
  readonly header: string;
  readonly value: string;
  readonly developer: string;
  readonly leaseSha256: string;
  /** Milliseconds since the epoch, by the sidecar's clock. */
  readonly expiresAt: number;
}

/** An announced claim: in the table while it is live and no tunnel holds or graces its claim. */
export interface AnnouncedRecord {
  readonly kind: 'announced';
  readonly port: number;
  readonly header: string;
  readonly value: string;
  developer: string;
  leaseSha256: string;
  expiresAt: number;
  readonly since: number;
}

/** What the claim table holds: a tunnel's claim, or an announced one waiting for its tunnel. */
export type ClaimEntry<L> = ClaimRecord<L> | AnnouncedRecord;

export type ClaimOutcome<L> =
  /** `replaced`: the holder's previous tunnel, still open, that the new one takes over from. */
  | { ok: true; record: ClaimRecord<L>; resumed: boolean; replaced?: L }
  | { ok: false; holder: ClaimInfo };
export type Route<L> =
  | { kind: 'link'; link: L; record: ClaimRecord<L> }
  /** The grace period ran out: the holder's tunnel is gone. */
  | { kind: 'expired'; record: ClaimRecord<L> }
  /** An announced claim whose tunnel did not reach this pod within the grace period. */
  | { kind: 'unreached'; record: AnnouncedRecord }
  /** The holder released the claim on purpose, or its announcement ended: the request is unclaimed now. */
  | { kind: 'released' };

/** A request waiting for its route; `cancel` lets go of it when its connection closes first. */
export interface PendingRoute<L> {
  readonly wait: Promise<Route<L>>;
  cancel(): void;
}

type Resolve<L> = (r: Route<L>) => void;

interface Pending<L> {
  timer: NodeJS.Timeout;
  waiters: Set<Resolve<L>>;
}

/** A live announcement: its record, the timer of its expiry, the requests that wait for its tunnel. */
interface Announced<L> {
  readonly record: AnnouncedRecord;
  timer: NodeJS.Timeout;
  /** Each request waits at most the grace period from its arrival: the value is its timer. */
  readonly waiters: Map<Resolve<L>, NodeJS.Timeout>;
}

/** How many released (claim, lease) pairs are remembered so that their announcements stay ignored. */
const MAX_RELEASED = 4096;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ClaimRegistry<L> {
  private readonly byPort = new Map<number, Map<string, Map<string, ClaimEntry<L>>>>();
  /** claimFieldNames of each port, made when first asked after a change. */
  private readonly fieldNamesByPort = new Map<number, readonly string[]>();
  private readonly pending = new Map<ClaimRecord<L>, Pending<L>>();
  /** Live announcements by claim key, also those a tunnel holds now (they count again once it is gone). */
  private readonly announced = new Map<string, Announced<L>>();
  /** `<claim key>\n<lease SHA-256>` of claims released on purpose: their announcements no longer count. */
  private readonly released = new Set<string>();
  /** Announcements are read (the sidecar has a claims folder): only then are releases remembered. */
  private announcing = false;

  constructor(
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {}

  /** The claims of one listen port, for matching; undefined when there are none. */
  table(port: number): ClaimTable<ClaimEntry<L>> | undefined {
    return this.byPort.get(port);
  }

  /**
   * The lower-case names of the fields a request on `port` may carry a claim in: the claimed headers,
   * and `baggage` (matchClaim reads no others). Undefined when the port has no claims.
   */
  claimFieldNames(port: number): readonly string[] | undefined {
    const headers = this.byPort.get(port);
    if (headers === undefined) return undefined;
    let names = this.fieldNamesByPort.get(port);
    if (names === undefined) this.fieldNamesByPort.set(port, (names = [...headers.keys(), 'baggage']));
    return names;
  }

  find(port: number, header: string, value: string): ClaimEntry<L> | undefined {
    return this.byPort.get(port)?.get(header)?.get(value);
  }

  /**
   * Who keeps `req` from being granted now: another holder. The same lease proves the same holder,
   * so it is granted even while its previous tunnel still looks connected (a laptop that slept or
   * changed networks reconnects before the sidecar notices the old tunnel is dead).
   */
  conflict(req: ClaimRequest): ClaimInfo | undefined {
    const existing = this.find(req.port, req.header, req.value);
    return existing?.kind === 'tunnel' && existing.lease !== req.lease ? infoOf(existing) : undefined;
  }

  claim(req: ClaimRequest, link: L): ClaimOutcome<L> {
    const holder = this.conflict(req);
    if (holder !== undefined) {
      this.log.info('claim refused', { ...fieldsOf(req), holder: holder.developer });
      return { ok: false, holder };
    }
    const existing = this.find(req.port, req.header, req.value);
    if (existing?.kind === 'tunnel') {
      const replaced = existing.link ?? undefined;
      existing.link = link;
      existing.graceEndsAt = null;
      this.settle(existing, { kind: 'link', link, record: existing });
      this.log.info(replaced === undefined ? 'claim resumed' : 'claim taken over by a new tunnel of the same holder', fieldsOf(existing));
      return { ok: true, record: existing, resumed: true, ...(replaced === undefined ? {} : { replaced }) };
    }
    const record: ClaimRecord<L> = { kind: 'tunnel', ...req, since: Date.now(), link, graceEndsAt: null };
    this.put(record);
    this.log.info('claim made', fieldsOf(record));
    // The requests that waited for an announced claim's tunnel take this one, whoever announced it.
    if (existing !== undefined) this.settleAnnounced(this.announced.get(keyOf(existing)), { kind: 'link', link, record });
    return { ok: true, record, resumed: false };
  }

  /** The holder closed its tunnel on purpose: the claim ends now, and so does its own announcement. */
  release(record: ClaimRecord<L>, link: L): void {
    if (record.link !== link) return; // an older tunnel of a resumed claim
    record.link = null;
    this.remove(record);
    this.log.info('claim released', fieldsOf(record));
    if (!this.announcing) return;
    // The holder's announcement may outlive the release for a while (the folder is updated slowly):
    // it must not bring the claim back. Another holder's announcement still counts.
    const key = keyOf(record);
    const sha = leaseSha256(record.lease);
    this.released.add(releasedKey(key, sha));
    if (this.released.size > MAX_RELEASED) this.released.delete(this.released.values().next().value!);
    const a = this.announced.get(key);
    // announce() never keeps an entry of a released lease, so only this holder's own entry can end here.
    if (a !== undefined && a.record.leaseSha256 === sha) this.endAnnouncement(a, 'its holder released the claim');
    else this.reinstate(key);
  }

  /** The tunnel dropped: requests wait up to the grace period for the holder to come back. */
  drop(record: ClaimRecord<L>, link: L): void {
    if (record.link !== link) return;
    record.link = null;
    record.graceEndsAt = Date.now() + this.graceMs;
    const timer = setTimeout(() => this.expire(record), this.graceMs);
    this.pending.set(record, { timer, waiters: new Set() });
    this.log.warn('tunnel dropped, grace period started', { ...fieldsOf(record), graceMs: this.graceMs });
  }

  /** Where a request matching `entry` goes: its tunnel now, or once the holder is back or gone. */
  route(entry: ClaimEntry<L>): Route<L> | PendingRoute<L> {
    if (entry.kind === 'announced') return this.routeAnnounced(entry);
    const record = entry;
    if (record.link !== null) return { kind: 'link', link: record.link, record };
    const p = this.pending.get(record);
    if (p !== undefined) {
      let resolve!: Resolve<L>;
      const wait = new Promise<Route<L>>((r) => (resolve = r));
      p.waiters.add(resolve);
      return { wait, cancel: () => p.waiters.delete(resolve) };
    }
    // Only a drop sets a grace end: a record without one and without a link was released.
    return record.graceEndsAt !== null ? { kind: 'expired', record } : { kind: 'released' };
  }

  /**
   * Replaces the announcements with what the claims folder holds now (at most one per claim: the
   * first). Entries past their expiry, and those of a claim its holder released, do not count.
   */
  announce(entries: readonly Announcement[]): void {
    this.announcing = true;
    const now = Date.now();
    const current = new Set<string>();
    for (const e of entries) {
      const key = keyOf(e);
      if (current.has(key) || e.expiresAt <= now || this.released.has(releasedKey(key, e.leaseSha256))) continue;
      current.add(key);
      const a = this.announced.get(key);
      if (a === undefined) {
        const record: AnnouncedRecord = { kind: 'announced', port: e.port, header: e.header, value: e.value, developer: e.developer, leaseSha256: e.leaseSha256, expiresAt: e.expiresAt, since: now };
        const added: Announced<L> = { record, timer: this.expiryTimer(key, e.expiresAt), waiters: new Map() };
        this.announced.set(key, added);
        this.log.info('claim announced', { ...fieldsOf(record), expiresAt: new Date(e.expiresAt).toISOString() });
        this.reinstate(key);
        continue;
      }
      a.record.developer = e.developer;
      a.record.leaseSha256 = e.leaseSha256;
      if (a.record.expiresAt !== e.expiresAt) {
        a.record.expiresAt = e.expiresAt;
        clearTimeout(a.timer);
        a.timer = this.expiryTimer(key, e.expiresAt);
      }
    }
    for (const [key, a] of this.announced) if (!current.has(key)) this.endAnnouncement(a, 'no longer announced in the claims folder');
  }

  /**
   * A claim that `lease` holds now, connected or in its grace period (a released or expired claim is
   * no longer in the table): what lets that holder open outbound streams.
   */
  heldBy(lease: string): ClaimRecord<L> | undefined {
    for (const headers of this.byPort.values()) {
      for (const values of headers.values()) for (const r of values.values()) if (r.kind === 'tunnel' && r.lease === lease) return r;
    }
    return undefined;
  }

  list(): ClaimInfo[] {
    const out: ClaimInfo[] = [];
    for (const headers of this.byPort.values()) for (const values of headers.values()) for (const r of values.values()) out.push(infoOf(r));
    return out;
  }

  /**
   * Shutdown: ends every grace period at once, and every wait for an announced claim's tunnel;
   * waiting requests are answered as expired or unreached.
   */
  close(): void {
    for (const a of [...this.announced.values()]) {
      clearTimeout(a.timer);
      this.removeEntry(a.record);
      this.settleAnnounced(a, { kind: 'unreached', record: a.record });
    }
    this.announced.clear();
    for (const record of [...this.pending.keys()]) this.expire(record);
  }

  private routeAnnounced(record: AnnouncedRecord): Route<L> | PendingRoute<L> {
    const key = keyOf(record);
    const a = this.announced.get(key);
    if (a === undefined || a.record !== record || this.find(record.port, record.header, record.value) !== record) {
      // Its announcement ended, or a tunnel took the claim since the request matched: whatever holds it now decides.
      const now = this.find(record.port, record.header, record.value);
      return now === undefined || now === record ? { kind: 'released' } : this.route(now);
    }
    let resolve!: Resolve<L>;
    const wait = new Promise<Route<L>>((r) => (resolve = r));
    const timer = setTimeout(() => {
      a.waiters.delete(resolve);
      resolve({ kind: 'unreached', record });
    }, this.graceMs);
    a.waiters.set(resolve, timer);
    return {
      wait,
      cancel: () => {
        clearTimeout(timer);
        a.waiters.delete(resolve);
      },
    };
  }

  private expiryTimer(key: string, expiresAt: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const a = this.announced.get(key);
      if (a === undefined) return;
      if (Date.now() < a.record.expiresAt) a.timer = this.expiryTimer(key, a.record.expiresAt); // beyond setTimeout's reach
      else this.endAnnouncement(a, 'expired');
    }, Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS));
    timer.unref();
    return timer;
  }

  /** The announcement ends: requests waiting for its tunnel go on as unclaimed. */
  private endAnnouncement(a: Announced<L>, why: string): void {
    const key = keyOf(a.record);
    clearTimeout(a.timer);
    this.announced.delete(key);
    this.removeEntry(a.record);
    this.settleAnnounced(a, { kind: 'released' });
    this.log.info('announced claim ended', { ...fieldsOf(a.record), reason: why });
  }

  /** Puts a live announcement (back) into the table when no tunnel holds or graces its claim. */
  private reinstate(key: string): void {
    const a = this.announced.get(key);
    if (a === undefined || this.find(a.record.port, a.record.header, a.record.value) !== undefined) return;
    this.put(a.record);
  }

  private settleAnnounced(a: Announced<L> | undefined, route: Route<L>): void {
    if (a === undefined) return;
    const waiters = [...a.waiters];
    a.waiters.clear();
    for (const [resolve, timer] of waiters) {
      clearTimeout(timer);
      resolve(route);
    }
  }

  private expire(record: ClaimRecord<L>): void {
    this.log.warn('grace period over, claim released', fieldsOf(record));
    this.remove(record);
    this.settle(record, { kind: 'expired', record });
    // A live announcement means the intercept goes on: the claim's requests wait for a tunnel again.
    this.reinstate(keyOf(record));
  }

  private settle(record: ClaimRecord<L>, route: Route<L>): void {
    const p = this.pending.get(record);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(record);
    for (const w of p.waiters) w(route);
  }

  private put(entry: ClaimEntry<L>): void {
    this.fieldNamesByPort.delete(entry.port);
    let headers = this.byPort.get(entry.port);
    if (headers === undefined) this.byPort.set(entry.port, (headers = new Map<string, Map<string, ClaimEntry<L>>>()));
    let values = headers.get(entry.header);
    if (values === undefined) headers.set(entry.header, (values = new Map<string, ClaimEntry<L>>()));
    values.set(entry.value, entry);
  }

  private remove(record: ClaimRecord<L>): void {
    this.removeEntry(record);
    const p = this.pending.get(record);
    if (p !== undefined && p.waiters.size === 0) {
      clearTimeout(p.timer);
      this.pending.delete(record);
    }
  }

  private removeEntry(entry: ClaimEntry<L>): void {
    const headers = this.byPort.get(entry.port);
    const values = headers?.get(entry.header);
    if (values?.get(entry.value) !== entry) return;
    this.fieldNamesByPort.delete(entry.port);
    values.delete(entry.value);
    if (values.size === 0) headers!.delete(entry.header);
    if (headers!.size === 0) this.byPort.delete(entry.port);
  }
}

/** One claim: port, header name and value (neither name nor value can hold a line feed). */
function keyOf(c: { readonly port: number; readonly header: string; readonly value: string }): string {
  return `${c.port}\n${c.header}\n${c.value}`;
}

function fieldsOf(r: { readonly port: number; readonly header: string; readonly value: string; readonly developer: string }): Record<string, string | number> {
  return { port: r.port, header: r.header, value: r.value, developer: r.developer };
}

function infoOf<L>(r: ClaimEntry<L>): ClaimInfo {
  const common = { port: r.port, header: r.header, value: r.value, developer: r.developer, since: new Date(r.since).toISOString() };
  // Never the lease, nor its hash.
  if (r.kind === 'announced') return { ...common, state: 'announced', expiresAt: new Date(r.expiresAt).toISOString() };
  return {
    ...common,
    state: r.link !== null ? 'connected' : 'grace',
    ...(r.graceEndsAt !== null ? { graceEndsAt: new Date(r.graceEndsAt).toISOString() } : {}),
  };
}

/** A released claim's key with the SHA-256 of its lease: that holder's announcement no longer counts. */
function releasedKey(claimKey: string, leaseSha: string): string {
  return `${claimKey}\n${leaseSha}`;
}
