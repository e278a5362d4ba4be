// Structured JSON log lines, one per event. Callers pass only fields that are safe to log: never
// header values other than the claim's own, never cookies, authorization or bodies.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export class Logger {
  private readonly max: number;
  /** Checked by hot paths before they build fields for a debug line. */
  readonly debugEnabled: boolean;

  constructor(
    level: LogLevel,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.max = RANK[level];
    this.debugEnabled = this.max >= RANK.debug;
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] > this.max) return;
    this.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  }
}
