// Linux: everything comes from /proc, no external command. The process tree from the parent id in
// /proc/<pid>/stat, each process's socket inodes from its /proc/<pid>/fd links (`socket:[inode]`),
// and the LISTEN rows of /proc/<pid>/net/tcp and tcp6, which show the sockets of that process's
// network namespace, matched by inode.
import { endianness } from 'node:os';
import { uniqueListening, type ListeningPort, type ProcFs } from './listening-port';
import { processTree, type ProcessEntry } from './process-tree';

export interface ProcNetListener {
  readonly address: string;
  readonly port: number;
  readonly inode: number;
}

const TCP_LISTEN = '0A';

/**
 * The LISTEN rows of /proc/net/tcp or /proc/net/tcp6. The kernel prints each 32-bit word of the
 * address as a number in host byte order, so on little-endian machines the bytes of every word
 * appear reversed; the port is printed as a plain number.
 */
export function parseProcNetTcp(text: string, littleEndian = true): ProcNetListener[] {
  const rows: ProcNetListener[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0] ?? '') || f[3] !== TCP_LISTEN) continue;
    const [hexAddr, hexPort] = (f[1] ?? '').split(':');
    const bytes = hexAddr ? addressBytes(hexAddr, littleEndian) : undefined;
    const inode = Number(f[9]);
    if (!bytes || !hexPort || !/^[0-9A-Fa-f]{4}$/.test(hexPort) || !Number.isSafeInteger(inode)) continue;
    rows.push({ address: bytes.length === 4 ? bytes.join('.') : formatIPv6(bytes), port: parseInt(hexPort, 16), inode });
  }
  return rows;
}

function addressBytes(hex: string, littleEndian: boolean): number[] | undefined {
  if (!/^([0-9A-Fa-f]{8}){1,4}$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
    bytes.push(...(littleEndian ? word.reverse() : word));
  }
  return bytes;
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`. */
export function formatIPv6(bytes: readonly number[]): string {
  const b = (i: number): number => bytes[i] ?? 0;
  if (bytes.slice(0, 10).every((x) => x === 0) && b(10) === 0xff && b(11) === 0xff) {
    return `::ffff:${b(12)}.${b(13)}.${b(14)}.${b(15)}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => (b(2 * i) << 8) | b(2 * i + 1));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** The parent pid from /proc/<pid>/stat; the command name before it may hold spaces and parentheses. */
export function parseStatPpid(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const ppid = Number(rest[1]);
  return Number.isSafeInteger(ppid) && ppid >= 0 ? ppid : undefined;
}

/** The inode of a /proc/<pid>/fd link to a socket, or undefined for any other file. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** Reads that fail because a process ended meanwhile (or is not ours to read) count as empty. */
async function orNothing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch {
    return undefined;
  }
}

async function processTable(fs: ProcFs): Promise<ProcessEntry[]> {
  const pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const entries = await Promise.all(
    pids.map(async (name) => {
      const stat = await orNothing(fs.readFile(`/proc/${name}/stat`));
      const ppid = stat === undefined ? undefined : parseStatPpid(stat);
      return ppid === undefined ? undefined : { pid: Number(name), ppid };
    }),
  );
  return entries.filter((e): e is ProcessEntry => e !== undefined);
}

/** socket inode → pid for the sockets `pid` holds open. */
async function socketsOf(pid: number, fs: ProcFs): Promise<Map<number, number>> {
  const sockets = new Map<number, number>();
  const fds = (await orNothing(fs.readdir(`/proc/${pid}/fd`))) ?? [];
  await Promise.all(
    fds.map(async (fd) => {
      const link = await orNothing(fs.readlink(`/proc/${pid}/fd/${fd}`));
      const inode = link === undefined ? undefined : socketInode(link);
      if (inode !== undefined) sockets.set(inode, pid);
    }),
  );
  return sockets;
}

export async function linuxListeningPorts(rootPid: number, fs: ProcFs, littleEndian = endianness() === 'LE'): Promise<ListeningPort[]> {
  const tree = processTree(rootPid, await processTable(fs));
  const owners = new Map<number, number>(); // socket inode → pid
  const namespaces = new Map<string, number>(); // network namespace → one pid inside it
  await Promise.all(
    [...tree].map(async (pid) => {
      const [sockets, ns] = await Promise.all([socketsOf(pid, fs), orNothing(fs.readlink(`/proc/${pid}/ns/net`))]);
      if (sockets.size === 0) return;
      for (const [inode, owner] of sockets) owners.set(inode, owner);
      namespaces.set(ns ?? `pid ${pid}`, pid);
    }),
  );
  const found: ListeningPort[] = [];
  for (const pid of namespaces.values()) {
    for (const table of ['tcp', 'tcp6']) {
      const text = await orNothing(fs.readFile(`/proc/${pid}/net/${table}`));
      for (const row of parseProcNetTcp(text ?? '', littleEndian)) {
        const owner = owners.get(row.inode);
        if (owner !== undefined) found.push({ port: row.port, address: row.address, pid: owner });
      }
    }
  }
  return uniqueListening(found);
}
