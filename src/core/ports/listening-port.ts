// What a listening socket is, and the ways a platform backend reads the system.

export interface ListeningPort {
  readonly port: number;
  /** The address as bound: `127.0.0.1`, `::1`, `0.0.0.0`, `::`, `::ffff:127.0.0.1`, or an interface's. */
  readonly address: string;
  /** The process that holds the socket. */
  readonly pid: number;
}

/** The parts of /proc the Linux backend reads. */
export interface ProcFs {
  readFile(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

export interface ExecResult {
  readonly stdout: string;
  /** The exit code; lsof exits 1 when it lists nothing. */
  readonly code: number;
}

/** Runs a program without a shell; rejects only when it cannot be started. */
export type Exec = (file: string, args: readonly string[]) => Promise<ExecResult>;

/** A stable key for one listening socket, to compare snapshots. */
export function listeningKey(p: ListeningPort): string {
  return `${p.pid} ${p.address} ${p.port}`;
}

/** One entry per (pid, address, port), sorted by port, then address, then pid. */
export function uniqueListening(ports: Iterable<ListeningPort>): ListeningPort[] {
  const byKey = new Map<string, ListeningPort>();
  for (const p of ports) byKey.set(listeningKey(p), p);
  return [...byKey.values()].sort((a, b) => a.port - b.port || a.address.localeCompare(b.address) || a.pid - b.pid);
}
