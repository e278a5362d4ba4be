import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FdExhaustionWarning, outOfFdsCode } from '../../proxy-image/src/fd-exhaustion';
import { Logger } from '../../proxy-image/src/log';

describe('out-of-file-descriptors warning', () => {
  it('tells EMFILE and ENFILE from other errors', () => {
    assert.equal(outOfFdsCode(Object.assign(new Error('x'), { code: 'EMFILE' })), 'EMFILE');
    assert.equal(outOfFdsCode(Object.assign(new Error('x'), { code: 'ENFILE' })), 'ENFILE');
    assert.equal(outOfFdsCode(Object.assign(new Error('x'), { code: 'ECONNRESET' })), undefined);
    assert.equal(outOfFdsCode(null), undefined);
  });

  it('warns at most once per interval for each place, counting what it did not log', () => {
    const lines: Array<Record<string, unknown>> = [];
    let now = 1_000_000;
    const log = new Logger('warn', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const warning = new FdExhaustionWarning(log, 10_000, () => now);
    for (let i = 0; i < 50; i++) warning.report('connecting to the app', 'EMFILE');
    warning.report('accepting a connection', 'ENFILE');
    now += 9_999;
    warning.report('connecting to the app', 'EMFILE');
    now += 1;
    warning.report('connecting to the app', 'EMFILE');
    assert.deepEqual(
      lines.map(({ level, msg, during, code, suppressed }) => ({ level, msg, during, code, suppressed })),
      [
        { level: 'warn', msg: 'out of file descriptors', during: 'connecting to the app', code: 'EMFILE', suppressed: 0 },
        { level: 'warn', msg: 'out of file descriptors', during: 'accepting a connection', code: 'ENFILE', suppressed: 0 },
        { level: 'warn', msg: 'out of file descriptors', during: 'connecting to the app', code: 'EMFILE', suppressed: 50 },
      ],
    );
  });
});
