// Structured JSON log lines, one per event. Callers pass only fields that are safe to log: never
// header values other than the claim's own, never cookies, authorization or bodies.
//
// Logging never fails the process: a line that cannot be written is dropped. It never reports its
// own failure as an error either, since that report would be a log line that fails again.
import type { Writable } from 'node:stream';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
export const LOG_LEVELS = Object.keys(RANK) as LogLevel[];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Lines waiting in the stream beyond this are dropped, so a stalled reader cannot grow memory. */
const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * Writes lines to a stream (stdout) until it fails, then drops them. A pipe whose reader went away
 * (a container runtime broke the log pipe) fails with EPIPE, and on a pipe that error comes as an
 * 'error' event after the write returned: taken here, it never reaches the uncaught-exception
 * handler. `onFailed` is told once, with the error's code.
 */
export class StreamSink {
  private failed = false;

  constructor(
    private readonly stream: Writable,
    private readonly onFailed: (code: string) => void = () => undefined,
  ) {
    stream.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? err.message));
  }

  readonly write = (line: string): void => {
    if (this.failed || this.stream.destroyed || this.stream.writableLength > MAX_PENDING_BYTES) return;
    try {
      this.stream.write(line);
    } catch (err) {
      this.fail((err as NodeJS.ErrnoException).code ?? String(err));
    }
  };

  private fail(code: string): void {
    if (this.failed) return;
    this.failed = true;
    try {
      this.onFailed(code);
    } catch {
      // nowhere left to tell
    }
  }
}

export class Logger {
  private readonly max: number;
  /** Checked by hot paths before they build fields for a debug line. */
  readonly debugEnabled: boolean;

  constructor(
    level: LogLevel,
    private readonly write: (line: string) => void = new StreamSink(process.stdout).write,
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
    try {
      this.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    } catch {
      // A line that cannot be written is dropped; see the top of this file.
    }
  }
}
