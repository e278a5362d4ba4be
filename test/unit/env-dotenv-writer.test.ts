import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnv } from 'node:util';
import { formatDotenv, quoteDotenvValue } from '../../src/core/env/dotenv-writer';
import { parseDotenv } from '../../src/core/ports/dotenv';
import type { EnvVariable } from '../../src/core/env/types';

const v = (name: string, value: string, secret = false): EnvVariable => ({ name, value, source: 's', secret });
const origin = { workload: 'Deployment orders', namespace: 'shop', container: 'orders', context: 'kind-dev', pod: 'orders-b', writtenAt: new Date('2025-03-01T10:00:00Z') };

describe('writing the pod environment as a .env file', () => {
  // Values as real manifests hold them, each read back unchanged by node's own .env parser
  // (node --env-file) and by the project's reader of launch configurations' envFile.
  const values: [string, string][] = [
    ['', ''],
    ['8080', '8080'],
    ['http://orders:8080/api?x=1', "'http://orders:8080/api?x=1'"],
    ['postgres://app:p%40ss@db:5432/orders', 'postgres://app:p%40ss@db:5432/orders'],
    ['-XX:MaxRAMPercentage=75.0 -Dfile.encoding=UTF-8', "'-XX:MaxRAMPercentage=75.0 -Dfile.encoding=UTF-8'"],
    ['a #not a comment', "'a #not a comment'"],
    ['$(PROTOCOL)://$HOME ${X}', "'$(PROTOCOL)://$HOME ${X}'"],
    ['{"level":"info","json":true}', '\'{"level":"info","json":true}\''],
    ["it's", '"it\'s"'],
    ['line one\nline two', '"line one\\nline two"'],
    ['-----BEGIN KEY-----\nMIIB\n-----END KEY-----', '"-----BEGIN KEY-----\\nMIIB\\n-----END KEY-----"'],
    ['C:\\Program Files\\it\'s', "`C:\\Program Files\\it's`"],
    ['say "it\'s"', '`say "it\'s"`'],
    [' padded ', "' padded '"],
  ];
  for (const [value, quoted] of values) {
    it(`writes ${JSON.stringify(value)} as ${quoted} and reads it back`, () => {
      assert.equal(quoteDotenvValue(value), quoted);
      const line = `X=${quoted}\n`;
      assert.equal(parseEnv(line).X ?? '', value, 'node --env-file');
      assert.equal(parseDotenv(line).X, value, 'envFile reader');
    });
  }

  it('escapes what no quote can hold for the readers that know escapes', () => {
    assert.equal(quoteDotenvValue('a`b\'c"d\\e\nf'), '"a`b\'c\\"d\\\\e\\nf"');
  });

  it('writes a header saying where it came from, the notes, and leaves Secrets out unless chosen', () => {
    const variables = [v('LOG_LEVEL', 'info'), v('DB_PASSWORD', 'pa ss', true), v('DATABASE_URL', 'postgres://app:pa ss@127.0.0.1:41003/db', true), v('bad name', 'x')];
    const notes = [{ kind: 'left-out' as const, variables: ['API_KEY'], message: 'API_KEY: left out: you may not get secrets in namespace shop' }];
    assert.equal(
      formatDotenv(variables, notes, origin, false),
      [
        '# Environment of Deployment orders, container orders, namespace shop (context kind-dev), as pod orders-b sees it.',
        '# Written by Intercept at 2025-03-01T10:00:00.000Z; it does not follow later changes in the cluster.',
        '# Secret values left out (not chosen): DB_PASSWORD, DATABASE_URL',
        '# Names dotenv cannot hold, left out: "bad name"',
        '# API_KEY: left out: you may not get secrets in namespace shop',
        '',
        'LOG_LEVEL=info',
        '',
      ].join('\n'),
    );
    const withSecrets = formatDotenv(variables, [], origin, true);
    assert.deepEqual(parseEnv(withSecrets), { LOG_LEVEL: 'info', DB_PASSWORD: 'pa ss', DATABASE_URL: 'postgres://app:pa ss@127.0.0.1:41003/db' });
    assert.doesNotMatch(withSecrets, /Secret values left out/);
  });
});
