// Claims announced in the claims folder (a mounted ConfigMap): a pod that starts while an intercept is
// active holds the claim's requests until its tunnel comes, instead of sending them to the app.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import { announcedClaimFileName, leaseSha256 } from '../../src/protocol/announced-claim';
import { announcedClaim, ConfigMapFolder } from '../support/configmap-folder';
import { freePort, SidecarProcess } from '../support/sidecar-process';
import { get, startNamedServer, type NamedServer } from '../support/servers';
import { openTunnel } from '../support/tunnels';
import { claimsOf, waitForClaims } from '../support/wait';

const HEADER = 'x-intercept-id';

function inFiveMinutes(): Date {
  return new Date(Date.now() + 5 * 60_000);
}

/** One folder entry: the claim's key and its JSON. */
function entry(port: number, value: string, developer: string, lease: string, expiresAt = inFiveMinutes()): Record<string, string> {
  return { [announcedClaimFileName(port, HEADER, value)]: announcedClaim(port, value, developer, lease, expiresAt) };
}

/** A GET sent now, whose answer the test awaits later and whose settling it can look at meanwhile. */
function sendGet(port: number, path: string, headers: http.OutgoingHttpHeaders): { readonly result: ReturnType<typeof get>; readonly settled: boolean } {
  let settled = false;
  const result = get(port, path, headers);
  void result.then(
    () => (settled = true),
    () => (settled = true),
  );
  return {
    result,
    get settled() {
      return settled;
    },
  };
}

/** Resolves once the sidecar says (debug log) that the request for `path` waits for its claim's tunnel. */
async function waiting(sidecar: SidecarProcess, path: string): Promise<void> {
  await sidecar.waitForLog((l) => l.msg === 'request waits for the tunnel of its claim' && l.path === path);
}

describe('a sidecar that starts while claims are announced', () => {
  const GRACE_SECONDS = 2;
  const LEASE_ANA = 'lease-of-ana-4f2c-000001';
  let app: NamedServer;
  let ana: NamedServer;
  let folder: ConfigMapFolder;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startNamedServer('app');
    ana = await startNamedServer('ana-laptop');
    folder = await ConfigMapFolder.create();
    const port = await freePort();
    await folder.write({
      ...entry(port, 'ana-4f2c', 'ana@laptop', LEASE_ANA),
      ...entry(port, 'cy-9a1b', 'cy@desk', 'lease-of-cy-9a1b-0000001'),
    });
    sidecar = await SidecarProcess.start({
      appPorts: [app.port],
      listenPorts: [port],
      graceSeconds: GRACE_SECONDS,
      logLevel: 'debug',
      extraArgs: ['--claims-dir', folder.dir],
    });
  });

  after(async () => {
    // Whatever started is ended, also when the start failed half-way.
    try {
      await sidecar?.stop();
    } finally {
      await Promise.all([app?.close(), ana?.close(), folder?.remove()]);
    }
  });

  it('holds its first matching request until a tunnel with the claim connects, then serves it through the tunnel; unclaimed requests go to the app at once', async () => {
    const held = sendGet(sidecar.port, '/held', { [HEADER]: 'ana-4f2c' });
    await waiting(sidecar, '/held');
    assert.equal((await get(sidecar.port, '/plain')).body, 'app GET /plain');
    assert.equal(held.settled, false, 'the claimed request is still held');

    const status = await get(sidecar.controlPort, '/v1/status');
    const claims = (JSON.parse(status.body) as { claims: Array<Record<string, unknown>> }).claims;
    const announced = claims.find((c) => c.value === 'ana-4f2c');
    assert.equal(announced?.state, 'announced');
    assert.equal(announced?.developer, 'ana@laptop');
    assert.equal(typeof announced?.expiresAt, 'string');
    assert.equal(status.body.includes(leaseSha256(LEASE_ANA)), false, 'the status never shows the lease hash');

    const tunnel = await openTunnel(sidecar, 'ana-4f2c', ana.port, { developer: 'ana@laptop', lease: LEASE_ANA });
    try {
      const r = await held.result;
      assert.equal(r.status, 200);
      assert.equal(r.body, 'ana-laptop GET /held');
      assert.equal((await get(sidecar.port, '/next', { [HEADER]: 'ana-4f2c' })).body, 'ana-laptop GET /next');
      assert.equal(app.seen.some((s) => s.url === '/held' || s.url === '/next'), false, 'the app never saw a claimed request');
    } finally {
      await tunnel.close();
    }
  });

  it('answers a held request 503 naming the developer when no tunnel comes within the grace', async () => {
    const started = Date.now();
    const r = await get(sidecar.port, '/nobody', { [HEADER]: 'cy-9a1b' });
    const waited = Date.now() - started;
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-intercept-error'], '1');
    assert.match(r.body, /developer "cy@desk"/);
    assert.match(r.body, /has not reached this pod/);
    assert.ok(waited >= GRACE_SECONDS * 1000 - 50, `answered after ${waited} ms, before the grace ran out`);
    assert.equal(app.seen.some((s) => s.url === '/nobody'), false);
  });
});

describe('claims announced while the sidecar runs', () => {
  const GRACE_SECONDS = 4;
  let app: NamedServer;
  let ana: NamedServer;
  let folder: ConfigMapFolder;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await startNamedServer('app');
    ana = await startNamedServer('ana-laptop');
    folder = await ConfigMapFolder.create();
    await folder.write({});
    sidecar = await SidecarProcess.start({ appPorts: [app.port], graceSeconds: GRACE_SECONDS, logLevel: 'debug', extraArgs: ['--claims-dir', folder.dir] });
  });

  after(async () => {
    // Whatever started is ended, also when the start failed half-way.
    try {
      await sidecar?.stop();
    } finally {
      await Promise.all([app?.close(), ana?.close(), folder?.remove()]);
    }
  });

  const announcedAs = (value: string, developer?: string) => (claims: Awaited<ReturnType<typeof claimsOf>>) =>
    claims.some((c) => c.value === value && c.state === 'announced' && (developer === undefined || c.developer === developer));

  it('picks up an entry added to the folder, and ends it when the entry is removed: the waiting request goes to the app', async () => {
    await folder.write(entry(sidecar.port, 'dan-1', 'dan@box', 'lease-of-dan-1-00000001'));
    await waitForClaims(sidecar.controlPort, announcedAs('dan-1', 'dan@box'));
    const held = sendGet(sidecar.port, '/dan', { [HEADER]: 'dan-1' });
    await waiting(sidecar, '/dan');
    assert.equal(held.settled, false);

    await folder.write({});
    const r = await held.result;
    assert.equal(r.body, 'app GET /dan');
    assert.equal((await claimsOf(sidecar.controlPort)).some((c) => c.value === 'dan-1'), false);
    assert.equal((await get(sidecar.port, '/dan-later', { [HEADER]: 'dan-1' })).body, 'app GET /dan-later');
  });

  it('sends a request that waits for an entry that expires to the app at its expiry, and later ones at once', async () => {
    const expiresAt = new Date(Date.now() + 3000);
    await folder.write(entry(sidecar.port, 'eve-1', 'eve@box', 'lease-of-eve-1-00000001', expiresAt));
    await waitForClaims(sidecar.controlPort, announcedAs('eve-1'));
    const r = await get(sidecar.port, '/eve', { [HEADER]: 'eve-1' });
    const answeredAt = Date.now();
    assert.equal(r.body, 'app GET /eve');
    assert.ok(answeredAt >= expiresAt.getTime(), `answered ${expiresAt.getTime() - answeredAt} ms before the expiry`);

    assert.equal((await claimsOf(sidecar.controlPort)).some((c) => c.value === 'eve-1'), false, 'the expired entry is not listed');
    const started = Date.now();
    assert.equal((await get(sidecar.port, '/eve-later', { [HEADER]: 'eve-1' })).body, 'app GET /eve-later');
    assert.ok(Date.now() - started < (GRACE_SECONDS * 1000) / 2, 'not held');
  });

  it('does not bring back a claim its holder released while the entry with the same lease is still there', async () => {
    const lease = 'lease-of-fay-1-00000001';
    const fay = entry(sidecar.port, 'fay-1', 'fay@mac', lease);
    await folder.write(fay);
    await waitForClaims(sidecar.controlPort, announcedAs('fay-1'));
    const tunnel = await openTunnel(sidecar, 'fay-1', ana.port, { developer: 'fay@mac', lease });
    assert.equal((await get(sidecar.port, '/fay', { [HEADER]: 'fay-1' })).body, 'ana-laptop GET /fay');
    await tunnel.close();
    await sidecar.waitForLog((l) => l.msg === 'claim released' && l.value === 'fay-1');

    // Reads of the folder after the release (one of them picks up another entry) leave it released.
    await folder.write({ ...fay, ...entry(sidecar.port, 'gus-1', 'gus@box', 'lease-of-gus-1-00000001') });
    await waitForClaims(sidecar.controlPort, announcedAs('gus-1'));
    assert.equal((await claimsOf(sidecar.controlPort)).some((c) => c.value === 'fay-1'), false);
    const started = Date.now();
    const r = await get(sidecar.port, '/fay-later', { [HEADER]: 'fay-1' });
    assert.equal(r.body, 'app GET /fay-later');
    assert.ok(Date.now() - started < (GRACE_SECONDS * 1000) / 2, 'not held');
  });

  it('grants a tunnel of another lease for an announced value, which then gets its requests; after it the announcement counts again', async () => {
    await folder.write(entry(sidecar.port, 'hal-1', 'hal@pc', 'lease-of-hal-1-00000001'));
    await waitForClaims(sidecar.controlPort, announcedAs('hal-1'));
    const held = sendGet(sidecar.port, '/before-bo', { [HEADER]: 'hal-1' });
    await waiting(sidecar, '/before-bo');

    const bo = await startNamedServer('bo-laptop');
    const tunnel = await openTunnel(sidecar, 'hal-1', bo.port, { developer: 'bo@desk', lease: 'lease-of-bo-000000000001' });
    try {
      assert.equal((await held.result).body, 'bo-laptop GET /before-bo');
      assert.equal((await get(sidecar.port, '/with-bo', { [HEADER]: 'hal-1' })).body, 'bo-laptop GET /with-bo');
      const claim = (await claimsOf(sidecar.controlPort)).find((c) => c.value === 'hal-1');
      assert.equal(claim?.state, 'connected');
      assert.equal(claim?.developer, 'bo@desk');
    } finally {
      await tunnel.close();
      await bo.close();
    }
    await waitForClaims(sidecar.controlPort, announcedAs('hal-1', 'hal@pc'));
  });

  it('ignores bad files with one warning each, never logging their content, and keeps serving', async () => {
    const secret = 'do-not-log-this-0123456789abcdef';
    const bad = {
      'not-json.json': '{"v":1,"port":',
      'wrong-types.json': JSON.stringify({ v: 1, port: String(sidecar.port), header: HEADER, value: 'ivy-1', developer: 'ivy', leaseSha256: secret, expiresAt: inFiveMinutes().toISOString() }),
      'huge.json': `${announcedClaim(sidecar.port, 'jan-1', 'jan@box', 'lease-of-jan-1-00000001', inFiveMinutes())}${' '.repeat(5000)}`,
    };
    await folder.write({ ...bad, ...entry(sidecar.port, 'kim-1', 'kim@box', 'lease-of-kim-1-00000001') });
    await waitForClaims(sidecar.controlPort, announcedAs('kim-1'));
    // A later read of the same bad files: the announcement of a new entry is logged after its warnings would be.
    await folder.write({ ...bad, ...entry(sidecar.port, 'lou-1', 'lou@box', 'lease-of-lou-1-00000001') });
    await sidecar.waitForLog((l) => l.msg === 'claim announced' && l.value === 'lou-1');

    const warnings = sidecar.logs.filter((l) => l.msg === 'ignoring a file of the claims folder');
    for (const file of Object.keys(bad)) assert.equal(warnings.filter((w) => w.file === file).length, 1, `one warning for ${file}`);
    assert.match(String(warnings.find((w) => w.file === 'huge.json')?.reason), /larger than 4096 bytes/);
    assert.equal(sidecar.rawOutput.includes(secret), false, 'the content of a bad file is never logged');
    const claims = await claimsOf(sidecar.controlPort);
    assert.equal(claims.some((c) => c.value === 'ivy-1' || c.value === 'jan-1'), false);
    assert.equal((await get(sidecar.port, '/plain')).body, 'app GET /plain');
    assert.equal((await get(sidecar.port, '/jan', { [HEADER]: 'jan-1' })).body, 'app GET /jan');
    assert.ok(sidecar.alive);
  });
});
