// Running out of file descriptors is the sidecar's own trouble: neither the app, nor the client, nor
// a developer's tunnel is at fault. It is reported as a warning, at most once per interval for each
// place it happens, since at the limit every new connection runs into it.
import type { Logger } from './log';

/** EMFILE: this process is at its limit of open files; ENFILE: the whole system is. */
export function outOfFdsCode(err: unknown): 'EMFILE' | 'ENFILE' | undefined {
  const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE' ? code : undefined;
}

export class FdExhaustionWarning {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `during` names the place ("connecting to the app"): one of a few fixed strings. A line carries
   * `suppressed`, how many times it happened there since the previous line without being logged.
   */
  report(during: string, code: string): void {
    const t = this.now();
    const seen = this.last.get(during);
    if (seen !== undefined && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.log.warn('out of file descriptors', { during, code, suppressed: seen?.suppressed ?? 0 });
    this.last.set(during, { at: t, suppressed: 0 });
  }
}
