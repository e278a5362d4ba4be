// One timer for all connections instead of one per request: connections waiting for a request head
// register here, and a periodic sweep ends those too slow to send a head or idle for too long, and
// tells those that stayed quiet past the first moments.
//
// A connection carries its own clock (sweepSince), so that starting and stopping it, once or twice
// per request, is a field write rather than a Map update; the sweep drops the ones no longer watched
// from its list.

export interface Sweepable {
  /** When the connection's clock started (Date.now()), or -1 when it is not watched. Kept by the Sweeper. */
  sweepSince: number;
  /** The connection is in the sweeper's list (maybe no longer watched). Kept by the Sweeper. */
  sweepListed: boolean;
  /** The connection waits for a request head (new, or part of a head came): the head timeout applies, not the idle timeout. */
  readonly awaitingHead: boolean;
  onHeadTimeout(): void;
  onIdleTimeout(): void;
  /** Called on every sweep once the connection waited for a head longer than `quietMs`. */
  onQuiet(): void;
}

export class Sweeper {
  private readonly listed: Sweepable[] = [];
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
    conn.sweepSince = Date.now();
    if (!conn.sweepListed) {
      conn.sweepListed = true;
      this.listed.push(conn);
    }
  }

  unwatch(conn: Sweepable): void {
    conn.sweepSince = -1;
  }

  close(): void {
    clearInterval(this.timer);
    for (const conn of this.listed) {
      conn.sweepSince = -1;
      conn.sweepListed = false;
    }
    this.listed.length = 0;
  }

  private sweep(): void {
    const now = Date.now();
    const list = this.listed;
    const n = list.length;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const conn = list[i]!;
      const since = conn.sweepSince;
      if (since >= 0) {
        if (conn.awaitingHead) {
          if (now - since > this.headerTimeoutMs) {
            conn.sweepSince = -1;
            conn.onHeadTimeout();
          } else if (now - since > this.quietMs) {
            conn.onQuiet();
          }
        } else if (now - since > this.idleTimeoutMs) {
          conn.sweepSince = -1;
          conn.onIdleTimeout();
        }
      }
      if (conn.sweepSince >= 0) list[kept++] = conn;
      else conn.sweepListed = false;
    }
    // Connections listed while the sweep ran (by the calls above) were appended after the first n.
    for (let i = n; i < list.length; i++) list[kept++] = list[i]!;
    list.length = kept;
  }
}
