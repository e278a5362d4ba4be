import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sweeper, type Sweepable } from '../../proxy-image/src/sweeper';

/** A connection that records what the sweeper told it; `onTimeout` runs on either timeout. */
class Conn implements Sweepable {
  sweepSince = -1;
  sweepListed = false;
  awaitingHead = true;
  events: string[] = [];
  onTimeout: () => void = () => undefined;
  onHeadTimeout(): void {
    this.events.push('head');
    this.onTimeout();
  }
  onIdleTimeout(): void {
    this.events.push('idle');
    this.onTimeout();
  }
  onQuiet(): void {
    this.events.push('quiet');
  }
}

/** Moves the mocked clock on one sweep interval (250 ms) at a time, as the real one would pass. */
function advance(t: { mock: { timers: { tick(ms: number): void } } }, ms: number): void {
  for (let done = 0; done < ms; done += 250) t.mock.timers.tick(250);
}

describe('sweeper', () => {
  it('times out a head or an idle connection once, and never one no longer watched', (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
    const sweeper = new Sweeper(1000, 2000, 300); // a sweep every 250 ms
    try {
      const head = new Conn();
      const idle = new Conn();
      idle.awaitingHead = false;
      const gone = new Conn();
      for (const c of [head, idle, gone]) sweeper.watch(c);
      sweeper.unwatch(gone);
      advance(t, 1250);
      assert.deepEqual(head.events, ['quiet', 'quiet', 'quiet', 'head']);
      assert.deepEqual(idle.events, []);
      advance(t, 1000);
      assert.deepEqual(idle.events, ['idle']);
      advance(t, 5000);
      assert.deepEqual(head.events, ['quiet', 'quiet', 'quiet', 'head']);
      assert.deepEqual(idle.events, ['idle']);
      assert.deepEqual(gone.events, []);
    } finally {
      sweeper.close();
    }
  });

  it('restarts the clock of a connection watched again, also from within a sweep', (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
    const sweeper = new Sweeper(1000, 1000, 5000); // a sweep every 250 ms
    try {
      const a = new Conn();
      const b = new Conn();
      // a's timeout watches b again (as a connection's handler may): b is timed from then on, not dropped.
      a.onTimeout = () => sweeper.watch(b);
      sweeper.watch(a);
      sweeper.watch(b);
      sweeper.unwatch(b);
      advance(t, 1250);
      assert.deepEqual(a.events, ['head']);
      assert.deepEqual(b.events, []);
      advance(t, 750);
      assert.deepEqual(b.events, []);
      advance(t, 500);
      assert.deepEqual(b.events, ['head']);
    } finally {
      sweeper.close();
    }
  });
});
