import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimRegistry, type PendingRoute, type Route } from '../../proxy-image/src/claims';
import { Logger } from '../../proxy-image/src/log';
import { leaseSha256 } from '../../src/protocol/announced-claim';

const quiet = new Logger('error', () => undefined);
const ana = { port: 8080, header: 'x-intercept-id', value: 'ana-4f2c', developer: 'ana', lease: 'lease-ana-000000001' };

describe('claim registry', () => {
  it('grants a free claim and refuses a held one naming the holder', () => {
    const reg = new ClaimRegistry<string>(1000, quiet);
    assert.equal(reg.claim(ana, 'link-1').ok, true);
    const other = reg.claim({ ...ana, developer: 'bo', lease: 'lease-bo-0000000001' }, 'link-2');
    assert.equal(other.ok, false);
    assert.equal(other.ok === false && other.holder.developer, 'ana');
    assert.equal(reg.claim({ ...ana, port: 9090 }, 'link-3').ok, true, 'claims are per listen port');
    reg.close();
  });

  it('releases at once when closed on purpose', () => {
    const reg = new ClaimRegistry<string>(1000, quiet);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.release(r.record, 'link-1');
    assert.equal(reg.table(8080), undefined);
    assert.deepEqual(reg.list(), []);
  });

  it('names the fields a claim can be in on each port, following claims as they come and go', () => {
    const reg = new ClaimRegistry<string>(1000, quiet);
    assert.equal(reg.claimFieldNames(8080), undefined);
    const a = reg.claim(ana, 'link-1');
    assert.ok(a.ok);
    assert.deepEqual(reg.claimFieldNames(8080), ['x-intercept-id', 'baggage']);
    const b = reg.claim({ ...ana, header: 'x-tenant', value: 't1', developer: 'bo', lease: 'lease-bo-0000000001' }, 'link-2');
    assert.ok(b.ok);
    assert.deepEqual(reg.claimFieldNames(8080), ['x-intercept-id', 'x-tenant', 'baggage']);
    assert.equal(reg.claimFieldNames(9090), undefined, 'per listen port');
    reg.release(a.record, 'link-1');
    assert.deepEqual(reg.claimFieldNames(8080), ['x-tenant', 'baggage']);
    reg.release(b.record, 'link-2');
    assert.equal(reg.claimFieldNames(8080), undefined);
    reg.close();
  });

  it('holds requests during the grace and hands them the reconnected tunnel', async () => {
    const reg = new ClaimRegistry<string>(10_000, quiet);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.drop(r.record, 'link-1');
    assert.equal(reg.list()[0]?.state, 'grace');
    const waiting = reg.route(r.record);
    assert.ok('wait' in waiting);
    assert.equal(reg.claim({ ...ana, lease: 'another-lease-00001' }, 'intruder').ok, false, 'only the same holder may resume');
    const resumed = reg.claim(ana, 'link-2');
    assert.ok(resumed.ok && resumed.resumed);
    assert.deepEqual(await waiting.wait, { kind: 'link', link: 'link-2', record: r.record });
    reg.close();
  });

  it('expires the claim after the grace and tells the waiting requests', async () => {
    const reg = new ClaimRegistry<string>(30, quiet);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.drop(r.record, 'link-1');
    const waiting = reg.route(r.record);
    assert.ok('wait' in waiting);
    const route: Route<string> = await waiting.wait;
    assert.equal(route.kind, 'expired');
    assert.equal(reg.table(8080), undefined);
    assert.equal(reg.claim({ ...ana, developer: 'bo', lease: 'lease-bo-0000000001' }, 'link-3').ok, true, 'free again after the grace');
    reg.close();
  });

  it('ignores the end of an older tunnel of a resumed claim', () => {
    const reg = new ClaimRegistry<string>(1000, quiet);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.drop(r.record, 'link-1');
    reg.claim(ana, 'link-2');
    reg.release(r.record, 'link-1');
    assert.equal(reg.list()[0]?.state, 'connected');
    reg.close();
  });
});

describe('announced claims in the registry', () => {
  const announcement = (expiresInMs = 60_000, lease = ana.lease) => ({
    port: ana.port,
    header: ana.header,
    value: ana.value,
    developer: 'ana@laptop',
    leaseSha256: leaseSha256(lease),
    expiresAt: Date.now() + expiresInMs,
  });
  const entryOf = (reg: ClaimRegistry<string>) => reg.table(ana.port)?.get(ana.header)?.get(ana.value);
  /** The route of a request for ana's claim, which must be a wait. */
  const waitingOn = (reg: ClaimRegistry<string>): PendingRoute<string> => {
    const r = reg.route(entryOf(reg)!);
    assert.ok('wait' in r);
    return r;
  };
  const settledSoon = async (p: Promise<unknown>): Promise<boolean> => {
    let settled = false;
    void p.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    return settled;
  };

  it('lists a live announcement as announced, without its lease hash, and ignores expired ones', () => {
    const reg = new ClaimRegistry<string>(1000, quiet);
    reg.announce([announcement(-1)]);
    assert.deepEqual(reg.list(), []);
    reg.announce([announcement()]);
    const [info] = reg.list();
    assert.equal(info?.state, 'announced');
    assert.equal(info?.developer, 'ana@laptop');
    assert.equal(JSON.stringify(info).includes(leaseSha256(ana.lease)), false);
    reg.close();
  });

  it('hands the requests waiting on an announcement to the tunnel that claims it, whatever its lease', async () => {
    const reg = new ClaimRegistry<string>(10_000, quiet);
    reg.announce([announcement()]);
    const waiting = waitingOn(reg);
    assert.equal(reg.conflict({ ...ana, developer: 'bo', lease: 'lease-bo-0000000001' }), undefined, 'an announcement never refuses a tunnel');
    const r = reg.claim({ ...ana, developer: 'bo', lease: 'lease-bo-0000000001' }, 'link-bo');
    assert.ok(r.ok);
    assert.deepEqual(await waiting.wait, { kind: 'link', link: 'link-bo', record: r.record });
    reg.close();
  });

  it('answers a waiting request as unreached after the grace, counted from the request', async () => {
    const reg = new ClaimRegistry<string>(30, quiet);
    reg.announce([announcement()]);
    const waiting = waitingOn(reg);
    assert.equal((await waiting.wait).kind, 'unreached');
    assert.equal(reg.list()[0]?.state, 'announced', 'the announcement stays');
    reg.close();
  });

  it('lets go of a waiting request whose connection closed', async () => {
    const reg = new ClaimRegistry<string>(10_000, quiet);
    reg.announce([announcement()]);
    const waiting = waitingOn(reg);
    waiting.cancel();
    reg.claim(ana, 'link-1');
    assert.equal(await settledSoon(waiting.wait), false);
    reg.close();
  });

  it('sends waiting requests to the app when the announcement leaves the folder or expires', async () => {
    const reg = new ClaimRegistry<string>(10_000, quiet);
    reg.announce([announcement()]);
    const removed = waitingOn(reg);
    reg.announce([]);
    assert.deepEqual(await removed.wait, { kind: 'released' });
    assert.equal(reg.table(ana.port), undefined);

    reg.announce([announcement(30)]);
    const expiring = waitingOn(reg);
    assert.deepEqual(await expiring.wait, { kind: 'released' });
    assert.deepEqual(reg.list(), []);
    reg.close();
  });

  it('ignores the announcement of a claim its holder released, but not that of another lease', () => {
    const reg = new ClaimRegistry<string>(10_000, quiet);
    reg.announce([announcement()]);
    const own = reg.claim(ana, 'link-1');
    assert.ok(own.ok);
    reg.release(own.record, 'link-1');
    assert.equal(reg.table(ana.port), undefined);
    reg.announce([announcement()]);
    assert.deepEqual(reg.list(), [], 'the same entry read again does not bring the claim back');

    const other = reg.claim({ ...ana, developer: 'bo', lease: 'lease-bo-0000000001' }, 'link-bo');
    assert.ok(other.ok);
    reg.announce([announcement(60_000, 'lease-cy-0000000001')]);
    assert.equal(reg.list()[0]?.state, 'connected', 'a tunnel holds the claim: the announcement waits behind it');
    reg.release(other.record, 'link-bo');
    assert.equal(reg.list()[0]?.state, 'announced', "another lease's announcement counts again");
    reg.close();
  });

  it('holds requests again when a dropped tunnel does not come back while its claim is still announced', async () => {
    const reg = new ClaimRegistry<string>(30, quiet);
    reg.announce([announcement()]);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.drop(r.record, 'link-1');
    const inGrace = reg.route(r.record);
    assert.ok('wait' in inGrace);
    assert.equal((await inGrace.wait).kind, 'expired');
    assert.equal(reg.list()[0]?.state, 'announced');
    reg.close();
  });
});
