// The sidecar's runtime settings are written in one place (src/protocol/constants.ts); the
// Dockerfile cannot import them, so this keeps it equal to them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SIDECAR_ENV, SIDECAR_IMAGE, SIDECAR_NODE_ARGS } from '../../src/protocol/constants';
import { missingRuntimeSettings } from '../../proxy-image/src/runtime-settings';

const dockerfile = readFileSync(path.resolve(__dirname, '../../proxy-image/Dockerfile'), 'utf8');

describe('sidecar runtime settings', () => {
  it('the Dockerfile runs node with SIDECAR_NODE_ARGS before the script', () => {
    const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
    assert.ok(entry, 'the Dockerfile has an ENTRYPOINT in exec form');
    assert.deepEqual(JSON.parse(entry[1]!), ['node', ...SIDECAR_NODE_ARGS, '/intercept/intercept-proxy.js']);
  });

  it('the Dockerfile starts from the default image, so both run the same Node', () => {
    assert.deepEqual([...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]), [SIDECAR_IMAGE]);
  });

  it('the Dockerfile sets SIDECAR_ENV', () => {
    const env = new Map([...dockerfile.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [name, value] of Object.entries(SIDECAR_ENV)) assert.equal(env.get(name), value, `ENV ${name}=${value}`);
  });
});

describe('missing runtime settings', () => {
  it('names the flags and environment variables the process runs without', () => {
    const all = [...SIDECAR_NODE_ARGS, ...Object.entries(SIDECAR_ENV).map(([k, v]) => `${k}=${v}`)];
    assert.deepEqual(missingRuntimeSettings([], {}), all);
    assert.deepEqual(missingRuntimeSettings([...SIDECAR_NODE_ARGS, '--enable-source-maps'], { ...SIDECAR_ENV }), []);
    // Another value chosen on purpose counts as set.
    const env = Object.fromEntries(Object.keys(SIDECAR_ENV).map((k) => [k, '4']));
    assert.deepEqual(missingRuntimeSettings(SIDECAR_NODE_ARGS, env), []);
  });
});
