import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimRegistry, type Route } from '../../proxy-image/src/claims';
import { Logger } from '../../proxy-image/src/log';

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

  it('holds requests during the grace and hands them the reconnected tunnel', async () => {
    const reg = new ClaimRegistry<string>(10_000, quiet);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.drop(r.record, 'link-1');
    assert.equal(reg.list()[0]?.state, 'grace');
    const waiting = reg.route(r.record);
    assert.ok(waiting instanceof Promise);
    assert.equal(reg.claim({ ...ana, lease: 'another-lease-00001' }, 'intruder').ok, false, 'only the same holder may resume');
    const resumed = reg.claim(ana, 'link-2');
    assert.ok(resumed.ok && resumed.resumed);
    assert.deepEqual(await waiting, { kind: 'link', link: 'link-2' });
    reg.close();
  });

  it('expires the claim after the grace and tells the waiting requests', async () => {
    const reg = new ClaimRegistry<string>(30, quiet);
    const r = reg.claim(ana, 'link-1');
    assert.ok(r.ok);
    reg.drop(r.record, 'link-1');
    const route: Route<string> = await reg.route(r.record);
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
