// Output of the command line: lines for people on stdout (progress on stderr), or with --json one JSON
// object per line on stdout, so a script can read events as they come.
import type { CoreFailure } from '../core/errors';

export class Output {
  constructor(
    private readonly json: boolean,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  /** A result or event: `text` for people, `data` for scripts. */
  emit(type: string, data: object, text: string): void {
    if (this.json) this.out.write(`${JSON.stringify({ type, ...data })}\n`);
    else this.out.write(`${text}\n`);
  }

  /** Progress: for people on stderr; for scripts an event like any other. */
  progress(type: string, data: object, text: string): void {
    if (this.json) this.out.write(`${JSON.stringify({ type, ...data })}\n`);
    else this.err.write(`${text}\n`);
  }

  failure(f: CoreFailure): void {
    if (this.json) this.out.write(`${JSON.stringify({ type: 'error', ...f })}\n`);
    else this.err.write(`error: ${f.message}\n  ${f.hint}\n`);
  }
}

/** Columns padded to their widest cell, for tables people read. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
