// One timer for all connections instead of one per request: connections waiting for a request head
// register here, and a periodic sweep ends those too slow to send a head or idle for too long, and
// tells those that stayed quiet past the first moments.

export interface Sweepable {
  /** The connection waits for a request head (new, or part of a head came): the head timeout applies, not the idle timeout. */
  readonly awaitingHead: boolean;
  onHeadTimeout(): void;
  onIdleTimeout(): void;
  /** Called on every sweep once the connection waited for a head longer than `quietMs`. */
  onQuiet(): void;
}

export class Sweeper {
  private readonly waiting = new Map<Sweepable, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly headerTimeoutMs: number,
    private readonly idleTimeoutMs: number,
    private readonly quietMs: number,
  ) {
    const tick = Math.max(50, Math.min(1000, headerTimeoutMs / 4, idleTimeoutMs / 4));
    this.timer = setInterval(() => this.sweep(), tick);
    this.timer.unref();
  }

  /** Starts (or restarts) the clock of a connection that waits for a head. */
  watch(conn: Sweepable): void {
    this.waiting.set(conn, Date.now());
  }

  unwatch(conn: Sweepable): void {
    this.waiting.delete(conn);
  }

  close(): void {
    clearInterval(this.timer);
    this.waiting.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [conn, since] of this.waiting) {
      if (conn.awaitingHead) {
        if (now - since > this.headerTimeoutMs) {
          this.waiting.delete(conn);
          conn.onHeadTimeout();
        } else if (now - since > this.quietMs) {
          conn.onQuiet();
        }
      } else if (now - since > this.idleTimeoutMs) {
        this.waiting.delete(conn);
        conn.onIdleTimeout();
      }
    }
  }
}
