import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseProcNetTcp, parseStatPpid, socketInode, formatIPv6, linuxListeningPorts } from '../../src/core/ports/listening-linux';
import { parseLsofListening, parsePsPidPpid, macosListeningPorts } from '../../src/core/ports/listening-macos';
import { parseNetstatListening, parseProcessCsv, windowsListeningPorts } from '../../src/core/ports/listening-windows';
import { processTree } from '../../src/core/ports/process-tree';
import { connectHost } from '../../src/core/ports/listening-address';
import type { Exec, ProcFs } from '../../src/core/ports/listening-port';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/listening/${name}`, import.meta.url), 'utf8');
const crlf = (text: string): string => text.replace(/\n/g, '\r\n');

// The captured processes (see test/fixtures/listening/README.md).
const ROOT = 27366;
const CHILD = 27387;
const SIBLING = 27368;
const ROOT_TREE_PORTS = [
  { port: 36373, address: '0.0.0.0', pid: CHILD },
  { port: 36863, address: '127.0.0.1', pid: ROOT },
  { port: 36921, address: '::', pid: CHILD },
  { port: 40399, address: '::ffff:127.0.0.1', pid: ROOT },
  { port: 42935, address: '::1', pid: CHILD },
];

describe('Linux /proc parsing', () => {
  it('reads the LISTEN rows of /proc/net/tcp, not connections or TIME_WAIT rows', () => {
    const rows = parseProcNetTcp(fixture('proc-net-tcp.txt'));
    assert.deepEqual(
      rows.map((r) => `${r.address}:${r.port}/${r.inode}`),
      ['127.0.0.1:45103/5978371', '127.0.0.1:32766/5967514', '127.0.0.1:32764/5967543', '127.0.0.1:32765/5967516',
        '127.0.0.1:32762/5968511', '127.0.0.1:32763/5968771', '127.0.0.1:32761/5968504', '0.0.0.0:36373/5978405',
        '127.0.0.1:36863/5978381', '0.0.0.0:2024/636'],
    );
  });

  it('decodes /proc/net/tcp6 addresses word by word: ::1, ::, and IPv4-mapped', () => {
    assert.deepEqual(parseProcNetTcp(fixture('proc-net-tcp6.txt')), [
      { address: '::1', port: 42935, inode: 5978406 },
      { address: '::', port: 36921, inode: 5978404 },
      { address: '::ffff:127.0.0.1', port: 40399, inode: 5978382 },
    ]);
  });

  it('reads the same table printed by a big-endian machine', () => {
    const bigEndian = fixture('proc-net-tcp.txt').replace('0100007F:8FFF', '7F000001:8FFF');
    const row = parseProcNetTcp(bigEndian, false).find((r) => r.inode === 5978381);
    assert.deepEqual(row, { address: '127.0.0.1', port: 36863, inode: 5978381 });
  });

  it('formats IPv6 addresses as RFC 5952 text', () => {
    const bytes = (hex: string): number[] => hex.match(/../g)!.map((b) => parseInt(b, 16));
    assert.equal(formatIPv6(bytes('fe800000000000000000000000000001')), 'fe80::1');
    assert.equal(formatIPv6(bytes('20010db8000000010000000000000001')), '2001:db8:0:1::1');
    assert.equal(formatIPv6(bytes('20010db8000100020003000400050006')), '2001:db8:1:2:3:4:5:6');
  });

  it('takes the parent pid after the last parenthesis of a stat line, whatever the command name', () => {
    assert.equal(parseStatPpid(fixture('proc-pid-stat.txt')), 27355);
    assert.equal(parseStatPpid('garbage'), undefined);
  });

  it('recognises socket links among a process fd links', () => {
    assert.equal(socketInode('socket:[5978381]'), 5978381);
    assert.equal(socketInode('pipe:[5967278]'), undefined);
    assert.equal(socketInode('/dev/null'), undefined);
  });

  it('finds the listeners of the root and its child, not of the sibling or the parent', async () => {
    const snapshot = JSON.parse(fixture('proc-snapshot.json')) as { files: Record<string, string | string[]> };
    const get = (path: string): string | string[] => {
      if (/\/net\/tcp$/.test(path)) return fixture('proc-net-tcp.txt');
      if (/\/net\/tcp6$/.test(path)) return fixture('proc-net-tcp6.txt');
      const v = snapshot.files[path];
      if (v === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return v;
    };
    const fs: ProcFs = {
      readFile: (p) => Promise.resolve().then(() => get(p) as string),
      readdir: (p) => Promise.resolve().then(() => get(p) as string[]),
      readlink: (p) => Promise.resolve().then(() => get(p) as string),
    };
    assert.deepEqual(await linuxListeningPorts(ROOT, fs, true), ROOT_TREE_PORTS);
    assert.deepEqual(await linuxListeningPorts(SIBLING, fs, true), [{ port: 45103, address: '127.0.0.1', pid: SIBLING }]);
    assert.deepEqual(await linuxListeningPorts(99999, fs, true), []);
  });
});

describe('lsof and ps parsing', () => {
  it('reads lsof field output: wildcards by type, bracketed IPv6, IPv4-mapped shown as IPv4', () => {
    assert.deepEqual(parseLsofListening(fixture('lsof-listen-ptn.txt')), [
      { port: 36863, address: '127.0.0.1', pid: ROOT },
      { port: 40399, address: '127.0.0.1', pid: ROOT },
      { port: 45103, address: '127.0.0.1', pid: SIBLING },
      { port: 36921, address: '::', pid: CHILD },
      { port: 36373, address: '0.0.0.0', pid: CHILD },
      { port: 42935, address: '::1', pid: CHILD },
    ]);
  });

  it('skips connected sockets and copes with file-descriptor fields and CRLF', () => {
    assert.deepEqual(parseLsofListening(crlf(fixture('lsof-pftn.txt'))), [
      { port: 36863, address: '127.0.0.1', pid: ROOT },
      { port: 40399, address: '127.0.0.1', pid: ROOT },
    ]);
  });

  it('builds the process tree from ps output', () => {
    const entries = parsePsPidPpid(fixture('ps-pid-ppid.txt'));
    assert.ok(entries.length > 50);
    assert.deepEqual([...processTree(ROOT, entries)].sort(), [ROOT, CHILD]);
    // 27406 is the ps that printed the table, a child of the capturing process.
    assert.deepEqual([...processTree(27355, entries)].sort(), [27355, ROOT, SIBLING, CHILD, 27406].sort());
  });

  it('asks lsof about the tree only and reads its answer, an empty one included', async () => {
    const calls: string[][] = [];
    const exec: Exec = (file, args) => {
      calls.push([file, ...args]);
      if (file === 'ps') return Promise.resolve({ stdout: fixture('ps-pid-ppid.txt'), code: 0 });
      const pids = args[args.length - 1];
      return Promise.resolve(pids === `${ROOT},${CHILD}` ? { stdout: fixture('lsof-listen-ptn.txt').split(`p${SIBLING}`)[0] ?? '', code: 0 } : { stdout: '', code: 1 });
    };
    const ports = await macosListeningPorts(ROOT, exec);
    assert.deepEqual(calls[1], ['lsof', '-nP', '-a', '-iTCP', '-sTCP:LISTEN', '-F', 'ptn', '-p', `${ROOT},${CHILD}`]);
    assert.deepEqual(ports.map((p) => `${p.pid} ${p.address} ${p.port}`), [`${ROOT} 127.0.0.1 36863`, `${ROOT} 127.0.0.1 40399`]);
    assert.deepEqual(await macosListeningPorts(SIBLING, exec), []);
  });
});

describe('netstat and Win32_Process parsing', () => {
  it('reads the listening TCP rows of netstat -ano, IPv4 and IPv6, with CRLF', () => {
    const rows = parseNetstatListening(crlf(fixture('netstat-ano.txt')));
    assert.equal(rows.length, 21);
    assert.deepEqual(rows[0], { port: 21, address: '0.0.0.0', pid: 1380 });
    assert.deepEqual(rows.find((r) => r.port === 139), { port: 139, address: '10.10.10.5', pid: 4 });
    assert.deepEqual(rows.filter((r) => r.pid === 1380), [
      { port: 21, address: '0.0.0.0', pid: 1380 },
      { port: 21, address: '::', pid: 1380 },
    ]);
    assert.ok(!rows.some((r) => r.pid === 2368), 'the established connection is no listener');
    assert.ok(!rows.some((r) => r.port === 123), 'UDP rows are no TCP listeners');
  });

  it('tells listeners by the foreign port, also when the state word is translated', () => {
    const german = fixture('netstat-ano.txt').replace(/LISTENING/g, 'ABHÖREN').replace('ESTABLISHED', 'HERGESTELLT');
    assert.deepEqual(parseNetstatListening(german), parseNetstatListening(fixture('netstat-ano.txt')));
  });

  it('reads PowerShell CSV and wmic CSV by their headers', () => {
    const ps = parseProcessCsv(crlf(fixture('win32-process.csv')));
    assert.equal(ps.length, 10);
    assert.deepEqual(ps[8], { pid: 1380, ppid: 476 });
    // wmic: a blank line first, the node name first, the columns in alphabetical order, CR CR LF.
    const wmic = '\r\r\nNode,ParentProcessId,ProcessId\r\r\nWIN7,476,1380\r\r\nWIN7,1380,2368\r\r\n';
    assert.deepEqual(parseProcessCsv(wmic), [{ pid: 1380, ppid: 476 }, { pid: 2368, ppid: 1380 }]);
    assert.deepEqual(parseProcessCsv('no csv here\r\n'), []);
  });

  it('keeps only the tree rows, falls back to wmic, and survives a missing IPv6 table', async () => {
    const netstat = fixture('netstat-ano.txt');
    const wmic = 'Node,ParentProcessId,ProcessId\r\nWIN7,476,1380\r\nWIN7,1380,2368\r\nWIN7,0,4\r\n';
    const exec: Exec = (file, args) => {
      if (file === 'powershell') return Promise.reject(new Error('spawn powershell ENOENT'));
      if (file === 'wmic') return Promise.resolve({ stdout: wmic, code: 0 });
      const v6 = args.includes('TCPv6');
      const rows = netstat.split('\n').filter((l) => !/^\s+TCP/.test(l) || l.includes('[') === v6);
      return Promise.resolve(v6 ? { stdout: '', code: 1 } : { stdout: rows.join('\n'), code: 0 });
    };
    assert.deepEqual(await windowsListeningPorts(1380, exec), [{ port: 21, address: '0.0.0.0', pid: 1380 }]);
  });
});

describe('process tree and connect host', () => {
  it('walks descendants and stops at cycles from reused parent ids', () => {
    const tree = processTree(10, [
      { pid: 0, ppid: 0 },
      { pid: 11, ppid: 10 },
      { pid: 12, ppid: 11 },
      { pid: 10, ppid: 12 }, // a parent id reused by a grandchild
      { pid: 20, ppid: 1 },
    ]);
    assert.deepEqual([...tree].sort(), [10, 11, 12]);
  });

  it('connects to wildcard listeners over loopback of their family', () => {
    assert.equal(connectHost('0.0.0.0'), '127.0.0.1');
    assert.equal(connectHost('::'), '::1');
    assert.equal(connectHost('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(connectHost('::1'), '::1');
    assert.equal(connectHost('10.10.10.5'), '10.10.10.5');
  });
});
