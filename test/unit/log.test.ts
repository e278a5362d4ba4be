import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Logger, StreamSink } from '../../proxy-image/src/log';

/** A stream that takes lines until told to fail like a broken pipe (the error comes as an event). */
function pipeLike(): { stream: Writable; lines: string[]; writes: () => number } {
  const lines: string[] = [];
  let writes = 0;
  let broken = false;
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes++;
      if (broken) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        return;
      }
      lines.push(chunk.toString());
      done();
    },
  });
  Object.assign(stream, { breakPipe: () => (broken = true) });
  return { stream, lines, writes: () => writes };
}

describe('log output', () => {
  it('drops lines once the stream failed, reports the failure once, and never lets the error escape', async () => {
    const { stream, lines, writes } = pipeLike();
    const failures: string[] = [];
    const log = new Logger('debug', new StreamSink(stream, (code) => failures.push(code)).write);
    log.info('first');
    assert.equal(lines.length, 1);
    (stream as unknown as { breakPipe(): void }).breakPipe();
    log.info('into the broken pipe');
    // The failed write destroys the stream; its 'error' event, were nobody listening, would be thrown.
    await new Promise((resolve) => stream.once('close', resolve));
    const writesWhenBroken = writes();
    for (let i = 0; i < 100; i++) log.debug('dropped', { i });
    assert.equal(writes(), writesWhenBroken, 'nothing more is written to a failed stream');
    assert.deepEqual(failures, ['EPIPE']);
    assert.equal(lines.length, 1);
  });

  it('survives a stream whose write throws', () => {
    const failures: string[] = [];
    const throwing = new Writable({ write: (_c, _e, done) => done() });
    throwing.write = () => {
      throw Object.assign(new Error('bad fd'), { code: 'EBADF' });
    };
    const log = new Logger('info', new StreamSink(throwing, (code) => failures.push(code)).write);
    assert.doesNotThrow(() => log.error('one'));
    assert.doesNotThrow(() => log.error('two'));
    assert.deepEqual(failures, ['EBADF']);
  });

  it('never throws, even when the write function does', () => {
    const log = new Logger('info', () => {
      throw new Error('no way out');
    });
    assert.doesNotThrow(() => log.warn('lost'));
  });
});
