// Intercepts running on this machine, one small file each, so that `stop <service>` from another
// terminal (or the editor) can end the process that holds the claim: the claim lives with its tunnels
// in that process, and only it can release them.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LocalSessionRecord {
  readonly pid: number;
  readonly context: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  readonly header: string;
  readonly value: string;
  readonly localPort: number;
  readonly startedAt: string;
}

export function defaultStateDir(): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'intercept', 'sessions');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalSessions {
  constructor(private readonly dir: string = defaultStateDir()) {}

  /** Records this process's intercept; the returned function removes the record. */
  register(record: LocalSessionRecord): () => void {
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${record.pid}.json`);
    writeFileSync(file, JSON.stringify(record));
    return () => rmSync(file, { force: true });
  }

  /** Running intercepts; records of processes that are gone are removed. */
  list(): LocalSessionRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const out: LocalSessionRecord[] = [];
    for (const n of names) {
      const file = path.join(this.dir, n);
      try {
        const r = JSON.parse(readFileSync(file, 'utf8')) as LocalSessionRecord;
        if (alive(r.pid)) out.push(r);
        else rmSync(file, { force: true });
      } catch {
        rmSync(file, { force: true });
      }
    }
    return out;
  }

  /** Asks each process to stop (SIGINT, as Ctrl-C) and waits, bounded, until it has released and exited. */
  async stop(records: readonly LocalSessionRecord[], timeoutMs = 30_000): Promise<{ stopped: LocalSessionRecord[]; stuck: LocalSessionRecord[] }> {
    for (const r of records) {
      try {
        process.kill(r.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
    const deadline = Date.now() + timeoutMs;
    while (records.some((r) => alive(r.pid)) && Date.now() < deadline) await sleep(100);
    return { stopped: records.filter((r) => !alive(r.pid)), stuck: records.filter((r) => alive(r.pid)) };
  }
}
