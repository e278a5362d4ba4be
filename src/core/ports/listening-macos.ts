// macOS: the process tree from `ps`, the listening sockets from lsof's field output (one field per
// line, led by its letter: `p` a process, `f` a file of it, `t` its type, `n` its name).
import { uniqueListening, type Exec, type ListeningPort } from './listening-port';
import { processTree, type ProcessEntry } from './process-tree';

/** `ps -A -o pid=,ppid=`: two numbers a line. */
export function parsePsPidPpid(text: string): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) entries.push({ pid: Number(m[1]), ppid: Number(m[2]) });
  }
  return entries;
}

/**
 * `lsof -F ptn` output for listening TCP sockets. A name is `host:port`, the host bracketed when
 * IPv6, or `*` for the wildcard address of the file's type (`tIPv4` or `tIPv6`); a name with `->`
 * is a connection, not a listener.
 */
export function parseLsofListening(text: string): ListeningPort[] {
  const found: ListeningPort[] = [];
  let pid: number | undefined;
  let type = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const field = line[0];
    const value = line.slice(1);
    if (field === 'p') {
      pid = /^\d+$/.test(value) ? Number(value) : undefined;
      type = '';
    } else if (field === 'f') {
      type = '';
    } else if (field === 't') {
      type = value;
    } else if (field === 'n' && pid !== undefined && !value.includes('->')) {
      const m = /^(\*|\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
      if (!m?.[1] || !m[2]) continue;
      const host = m[1] === '*' ? (type === 'IPv6' ? '::' : '0.0.0.0') : m[1].replace(/^\[|\]$/g, '').toLowerCase();
      const port = Number(m[2]);
      if (port > 0 && port < 65536) found.push({ port, address: host, pid });
    }
  }
  return found;
}

export async function macosListeningPorts(rootPid: number, exec: Exec): Promise<ListeningPort[]> {
  const ps = await exec('ps', ['-A', '-o', 'pid=,ppid=']);
  if (ps.code !== 0) throw new Error(`ps exited with code ${ps.code}`);
  const tree = processTree(rootPid, parsePsPidPpid(ps.stdout));
  const lsof = await exec('lsof', ['-nP', '-a', '-iTCP', '-sTCP:LISTEN', '-F', 'ptn', '-p', [...tree].join(',')]);
  // lsof exits 1 when it lists nothing, or when some of the pids ended meanwhile.
  if (lsof.code !== 0 && lsof.code !== 1) throw new Error(`lsof exited with code ${lsof.code}`);
  return uniqueListening(parseLsofListening(lsof.stdout));
}
