import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { announcedClaimFileName, leaseSha256, parseAnnouncedClaim } from '../../src/protocol/announced-claim';

const LEASE_HASH = createHash('sha256').update('lease-ana-000000001').digest('hex');
const valid = {
  v: 1,
  port: 8080,
  header: 'X-Intercept-ID',
  value: 'ana-4f2c',
  developer: 'ana@laptop',
  leaseSha256: LEASE_HASH,
  expiresAt: '2031-05-06T07:08:09.250Z',
};

function reasonFor(entry: unknown): string {
  const r = parseAnnouncedClaim(typeof entry === 'string' ? entry : JSON.stringify(entry));
  assert.equal(r.ok, false, `expected a refusal for ${JSON.stringify(entry)}`);
  return r.ok === false ? r.reason : '';
}

describe('announced claim files', () => {
  it('reads a valid entry, lower-casing the header name, with its expiry in ms', () => {
    const r = parseAnnouncedClaim(JSON.stringify(valid));
    assert.equal(r.ok, true);
    if (r.ok !== true) return;
    assert.deepEqual(r.claim, { ...valid, header: 'x-intercept-id' });
    assert.equal(r.expiresAtMs, Date.UTC(2031, 4, 6, 7, 8, 9, 250));
  });

  it('accepts whole seconds and ignores fields it does not know', () => {
    const r = parseAnnouncedClaim(JSON.stringify({ ...valid, expiresAt: '2031-05-06T07:08:09Z', note: 'renewed by the extension' }));
    assert.equal(r.ok, true);
    assert.equal(r.ok === true && r.expiresAtMs, Date.UTC(2031, 4, 6, 7, 8, 9));
    assert.equal(r.ok === true && 'note' in r.claim, false);
  });

  it('refuses what is not a JSON object', () => {
    assert.match(reasonFor('{"v":1,'), /not JSON/);
    assert.match(reasonFor('[1,2]'), /not a JSON object/);
    assert.match(reasonFor('null'), /not a JSON object/);
    assert.match(reasonFor('"claim"'), /not a JSON object/);
  });

  it('refuses another version', () => {
    assert.match(reasonFor({ ...valid, v: 2 }), /"v"/);
    assert.match(reasonFor({ ...valid, v: '1' }), /"v"/);
    assert.match(reasonFor({ ...valid, v: undefined }), /"v"/);
  });

  it('refuses ports that are not port numbers', () => {
    for (const port of [0, 65536, 80.5, '8080', null, -1]) assert.match(reasonFor({ ...valid, port }), /"port"/, String(port));
  });

  it('checks header, value and developer as a tunnel handshake does', () => {
    assert.match(reasonFor({ ...valid, header: 'x intercept' }), /"header"/);
    assert.match(reasonFor({ ...valid, header: 'Cookie' }), /reserved/);
    assert.match(reasonFor({ ...valid, header: 'baggage' }), /reserved/);
    assert.match(reasonFor({ ...valid, value: '' }), /"value"/);
    assert.match(reasonFor({ ...valid, value: 'ana 4f2c' }), /"value"/);
    assert.match(reasonFor({ ...valid, value: 'x'.repeat(257) }), /"value"/);
    assert.match(reasonFor({ ...valid, value: 42 }), /strings/);
    assert.match(reasonFor({ ...valid, developer: '' }), /"developer"/);
    assert.match(reasonFor({ ...valid, developer: 'ana\n' }), /"developer"/);
    assert.match(reasonFor({ ...valid, developer: ['ana'] }), /"developer"/);
  });

  it('takes only a lower-case hex SHA-256 for the lease, never a lease', () => {
    assert.match(reasonFor({ ...valid, leaseSha256: LEASE_HASH.toUpperCase() }), /"leaseSha256"/);
    assert.match(reasonFor({ ...valid, leaseSha256: LEASE_HASH.slice(1) }), /"leaseSha256"/);
    assert.match(reasonFor({ ...valid, leaseSha256: 'lease-ana-000000001' }), /"leaseSha256"/);
    assert.match(reasonFor({ ...valid, leaseSha256: undefined }), /"leaseSha256"/);
  });

  it('takes only real RFC 3339 UTC times for the expiry', () => {
    for (const expiresAt of [
      '2031-05-06T07:08:09+00:00',
      '2031-05-06 07:08:09Z',
      '2031-05-06T07:08Z',
      '2031-02-30T07:08:09Z',
      '2031-13-06T07:08:09Z',
      '2031-05-06T24:08:09Z',
      '2031-05-06T07:08:09.Z',
      '1938000000',
      1938000000,
    ]) {
      assert.match(reasonFor({ ...valid, expiresAt }), /"expiresAt"/, String(expiresAt));
    }
  });

  it('hashes a lease as hex SHA-256 of its characters', () => {
    assert.equal(leaseSha256('lease-ana-000000001'), LEASE_HASH);
  });

  it('names files with valid ConfigMap keys, one per port, header (any case) and value', () => {
    const name = announcedClaimFileName(8080, 'X-Intercept-Id', 'ana-4f2c');
    assert.match(name, /^claim-8080-[0-9a-f]{32}\.json$/);
    assert.match(name, /^[-._a-zA-Z0-9]{1,253}$/);
    assert.equal(announcedClaimFileName(8080, 'x-intercept-id', 'ana-4f2c'), name, 'the header name is compared in any case');
    assert.notEqual(announcedClaimFileName(8080, 'x-intercept-id', 'ana-4f2d'), name);
    assert.notEqual(announcedClaimFileName(9090, 'x-intercept-id', 'ana-4f2c'), name);
    const longest = announcedClaimFileName(65535, 'x'.repeat(200), '~'.repeat(256));
    assert.match(longest, /^[-._a-zA-Z0-9]{1,253}$/);
  });
});
