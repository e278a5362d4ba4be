// Watches the listening ports of a process tree by polling: a debuggee often starts listening
// some time after the session starts, and may close and reopen its port. One poll at a time, the
// next one `intervalMs` after the previous one ended, so a slow system is never asked twice at once.
import { setTimeout as delay } from 'node:timers/promises';
import { listeningPorts, type ListeningDeps } from './listening';
import { listeningKey, type ListeningPort } from './listening-port';

export interface ListeningChange {
  readonly kind: 'listening' | 'closed';
  readonly port: ListeningPort;
}

export interface WatchListeningOptions {
  readonly intervalMs: number;
  readonly signal?: AbortSignal;
}

export interface WatchListeningDeps extends ListeningDeps {
  /** The ports the tree listens on now. */
  readonly list: (rootPid: number) => Promise<ListeningPort[]>;
  /** Whether the root process still exists. */
  readonly isAlive: (pid: number) => boolean;
}

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is not ours to signal
  }
}

/**
 * Reports each socket of the tree as it begins to listen (those listening at the start first) and
 * as it closes. Ends when the signal aborts, or when the root process is gone, after reporting the
 * sockets it knew as closed. A failing poll ends the iteration with that error.
 */
export async function* watchListeningPorts(
  rootPid: number,
  { intervalMs, signal }: WatchListeningOptions,
  deps: Partial<WatchListeningDeps> = {},
): AsyncGenerator<ListeningChange, void, undefined> {
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
  const list = deps.list ?? ((pid: number) => listeningPorts(pid, deps));
  const isAlive = deps.isAlive ?? processIsAlive;
  let known = new Map<string, ListeningPort>();
  while (!signal?.aborted) {
    if (!isAlive(rootPid)) {
      for (const port of known.values()) yield { kind: 'closed', port };
      return;
    }
    const now = new Map((await list(rootPid)).map((p) => [listeningKey(p), p] as const));
    if (signal?.aborted) return;
    for (const [key, port] of known) if (!now.has(key)) yield { kind: 'closed', port };
    for (const [key, port] of now) if (!known.has(key)) yield { kind: 'listening', port };
    known = now;
    try {
      await delay(intervalMs, undefined, { signal });
    } catch {
      return; // aborted while waiting
    }
  }
}
