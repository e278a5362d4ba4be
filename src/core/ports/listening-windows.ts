// Windows: the listening sockets from `netstat -ano`, the process tree from Win32_Process as CSV
// (PowerShell's Get-CimInstance, or wmic where PowerShell cannot run).
import { uniqueListening, type Exec, type ListeningPort } from './listening-port';
import { processTree, type ProcessEntry } from './process-tree';

/**
 * The listening TCP rows of `netstat -ano`: `TCP  <local>  <foreign>  <state>  <pid>`. The state
 * word is translated on localised systems, so a listener is told by its foreign port 0, which only
 * listening sockets show.
 */
export function parseNetstatListening(text: string): ListeningPort[] {
  const found: ListeningPort[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 5 || f[0]?.toUpperCase() !== 'TCP') continue;
    const local = /^\[?(.+?)\]?:(\d+)$/.exec(f[1] ?? '');
    const pid = Number(f[4]);
    if (!local?.[1] || !local[2] || !/:0$/.test(f[2] ?? '') || !/^\d+$/.test(f[4] ?? '')) continue;
    const port = Number(local[2]);
    if (port > 0 && port < 65536) found.push({ port, address: local[1].toLowerCase(), pid });
  }
  return found;
}

/** Splits one CSV line, honouring double quotes (`""` inside quotes is a quote). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^,]*))\s*(?:,|$)/gy;
  for (let m = re.exec(line); m && m[0] !== ''; m = re.exec(line)) {
    fields.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? ''));
  }
  return fields;
}

/**
 * Win32_Process rows as CSV with ProcessId and ParentProcessId columns in any order, found by the
 * header: PowerShell's ConvertTo-Csv (`"ProcessId","ParentProcessId"`) or wmic's /format:csv
 * (`Node,ParentProcessId,ProcessId`, after a blank line, lines ending in CR CR LF).
 */
export function parseProcessCsv(text: string): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  let pidAt = -1;
  let ppidAt = -1;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r+$/, '');
    if (line.trim() === '') continue;
    const fields = csvFields(line);
    if (pidAt < 0) {
      pidAt = fields.indexOf('ProcessId');
      ppidAt = fields.indexOf('ParentProcessId');
      if (ppidAt < 0) pidAt = -1;
      continue;
    }
    const pid = fields[pidAt] ?? '';
    const ppid = fields[ppidAt] ?? '';
    if (/^\d+$/.test(pid) && /^\d+$/.test(ppid)) entries.push({ pid: Number(pid), ppid: Number(ppid) });
  }
  return entries;
}

const POWERSHELL_PROCESSES = [
  '-NoProfile',
  '-NonInteractive',
  '-Command',
  'Get-CimInstance Win32_Process | Select-Object ProcessId,ParentProcessId | ConvertTo-Csv -NoTypeInformation',
];

async function windowsProcessTable(exec: Exec): Promise<ProcessEntry[]> {
  try {
    const ps = await exec('powershell', POWERSHELL_PROCESSES);
    const entries = ps.code === 0 ? parseProcessCsv(ps.stdout) : [];
    if (entries.length > 0) return entries;
  } catch {
    // PowerShell missing or blocked: wmic below.
  }
  const wmic = await exec('wmic', ['process', 'get', 'ProcessId,ParentProcessId', '/format:csv']);
  const entries = wmic.code === 0 ? parseProcessCsv(wmic.stdout) : [];
  if (entries.length === 0) throw new Error('could not list processes with PowerShell or wmic');
  return entries;
}

export async function windowsListeningPorts(rootPid: number, exec: Exec): Promise<ListeningPort[]> {
  const [entries, v4, v6] = await Promise.all([
    windowsProcessTable(exec),
    exec('netstat', ['-ano', '-p', 'TCP']),
    exec('netstat', ['-ano', '-p', 'TCPv6']),
  ]);
  if (v4.code !== 0) throw new Error(`netstat exited with code ${v4.code}`);
  const tree = processTree(rootPid, entries);
  // TCPv6 fails where IPv6 is off; the IPv4 table still counts.
  const rows = [...parseNetstatListening(v4.stdout), ...(v6.code === 0 ? parseNetstatListening(v6.stdout) : [])];
  return uniqueListening(rows.filter((row) => tree.has(row.pid)));
}
