import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { debugEnvironment } from '../../src/core/env/debug-env';
import type { EnvVariable } from '../../src/core/env/types';

const v = (name: string, value: string): EnvVariable => ({ name, value, source: 's', secret: false });

describe('the debug configuration environment', () => {
  it("takes the pod's variables, the user's own env entries winning and listed", () => {
    const r = debugEnvironment([v('LOG_LEVEL', 'info'), v('PORT', '8080'), v('DEBUG', '0'), v('SAME', 'x')], { LOG_LEVEL: 'debug', DEBUG: null, EXTRA: '1', SAME: 'x' });
    assert.deepEqual(r.env, { LOG_LEVEL: 'debug', PORT: '8080', EXTRA: '1', SAME: 'x' });
    assert.deepEqual(r.userWins, ['LOG_LEVEL', 'DEBUG']);
  });
});
