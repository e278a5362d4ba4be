import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../proxy-image/src/config';

describe('sidecar command line', () => {
  it('reads repeatable --listen and defaults', () => {
    const r = parseConfig(['--listen', '8080:80', '--listen=8443:443'], {});
    assert.equal(r.ok, true);
    if (r.ok !== true) return;
    assert.deepEqual(r.config.mappings, [{ listenPort: 8080, appPort: 80 }, { listenPort: 8443, appPort: 443 }]);
    assert.equal(r.config.controlPort, 15000);
    assert.equal(r.config.graceMs, 10_000);
    assert.equal(r.config.appHost, '127.0.0.1');
  });

  it('takes the same settings from the environment, flags winning', () => {
    const r = parseConfig(['--grace', '3'], { INTERCEPT_LISTEN: '9000:90, 9001:91', INTERCEPT_GRACE: '7', INTERCEPT_APP_HOST: '10.1.2.3', INTERCEPT_CONTROL_PORT: '16000' });
    assert.equal(r.ok, true);
    if (r.ok !== true) return;
    assert.equal(r.config.mappings.length, 2);
    assert.equal(r.config.graceMs, 3000);
    assert.equal(r.config.appHost, '10.1.2.3');
    assert.equal(r.config.controlPort, 16000);
  });

  it('reads announced claims from a folder only when one is given', () => {
    const folder = (argv: string[], env: NodeJS.ProcessEnv): string | null | undefined => {
      const r = parseConfig(['--listen', '8080:80', ...argv], env);
      return r.ok === true ? r.config.claimsDir : undefined;
    };
    assert.equal(folder([], {}), null);
    assert.equal(folder(['--claims-dir', '/etc/intercept/claims'], {}), '/etc/intercept/claims');
    assert.equal(folder([], { INTERCEPT_CLAIMS_DIR: '/claims' }), '/claims');
    assert.equal(folder(['--claims-dir=/a'], { INTERCEPT_CLAIMS_DIR: '/b' }), '/a');
    assert.equal(folder([], { INTERCEPT_CLAIMS_DIR: '' }), null);
  });

  it('allows outbound streams only with --outbound or INTERCEPT_OUTBOUND, with their limits', () => {
    const config = (argv: string[], env: NodeJS.ProcessEnv) => {
      const r = parseConfig(['--listen', '8080:80', ...argv], env);
      return r.ok === true ? [r.config.outbound, r.config.outboundMaxStreams, r.config.outboundConnectTimeoutMs] : r;
    };
    assert.deepEqual(config([], {}), [false, 256, 10_000]);
    assert.deepEqual(config(['--outbound'], {}), [true, 256, 10_000]);
    assert.deepEqual(config(['--outbound', '--outbound-max-streams', '8', '--outbound-connect-timeout=2.5'], {}), [true, 8, 2500]);
    assert.deepEqual(config([], { INTERCEPT_OUTBOUND: 'true' }), [true, 256, 10_000]);
    assert.deepEqual(config([], { INTERCEPT_OUTBOUND: '' }), [false, 256, 10_000]);
    assert.deepEqual(config([], { INTERCEPT_OUTBOUND: 'maybe' }), { ok: false, error: 'INTERCEPT_OUTBOUND must be true or false, got "maybe"' });
  });

  it('explains what is wrong', () => {
    const error = (argv: string[]): string => {
      const r = parseConfig(argv, {});
      assert.equal(r.ok, false);
      return r.ok === false ? r.error : '';
    };
    assert.match(error([]), /at least one --listen/);
    assert.match(error(['--listen', '80']), /<listenPort>:<appPort>/);
    assert.match(error(['--listen', '70000:80']), /1-65535/);
    assert.match(error(['--listen', '8080:80', '--control-port', '8080']), /used twice/);
    assert.match(error(['--listen', '8080:80', '--grace', '-1']), /positive/);
    assert.match(error(['--listen', '8080:80', '--log-level', 'loud']), /one of error, warn, info, debug/);
    assert.match(error(['--listen', '8080:80', '--bogus']), /unknown argument/);
    assert.match(error(['--listen']), /needs a value/);
    assert.equal(parseConfig(['--help'], {}).ok, 'help');
  });
});
