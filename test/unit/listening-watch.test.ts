import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { watchListeningPorts, type ListeningChange } from '../../src/core/ports/listening-watch';
import type { ListeningPort } from '../../src/core/ports/listening-port';
import { waitFor } from '../support/wait';

/** Runs the watcher in the background, keeping what it reports. */
function collect(iterable: AsyncIterable<ListeningChange>): { events: ListeningChange[]; done: Promise<void> } {
  const events: ListeningChange[] = [];
  const done = (async () => {
    for await (const change of iterable) events.push(change);
  })();
  return { events, done };
}

const p = (port: number, pid = 1): ListeningPort => ({ port, address: '127.0.0.1', pid });
const seen = (events: ListeningChange[]): string[] => events.map((e) => `${e.kind} ${e.port.port}`);

describe('watching listening ports (polling logic)', () => {
  it('reports ports as they begin and stop listening, one poll at a time, and ends when the root is gone', async () => {
    const answers = [[p(1)], [p(1), p(2)], [p(2)], [p(2), p(3)]];
    let active = 0;
    let most = 0;
    let polls = 0;
    let alive = true;
    const release: Array<() => void> = [];
    const list = async (): Promise<ListeningPort[]> => {
      active++;
      most = Math.max(most, active);
      await new Promise<void>((r) => release.push(r)); // a poll that takes as long as the test says
      active--;
      return answers[Math.min(polls++, answers.length - 1)] ?? [];
    };
    const { events, done } = collect(watchListeningPorts(1, { intervalMs: 1 }, { list, isAlive: () => alive }));
    for (let i = 0; i < answers.length; i++) {
      await waitFor(() => release.length > 0, `poll ${i + 1}`);
      release.shift()?.();
    }
    await waitFor(() => events.length >= 4, 'four changes');
    assert.deepEqual(seen(events), ['listening 1', 'listening 2', 'closed 1', 'listening 3']);
    alive = false;
    await waitFor(() => release.length > 0, 'the poll after the root ended');
    release.shift()?.();
    await done;
    assert.deepEqual(seen(events).slice(4), ['closed 2', 'closed 3']);
    assert.equal(most, 1, 'never two polls at once');
  });

  it('ends when the signal aborts, also while waiting for the next poll', async () => {
    const ac = new AbortController();
    let polls = 0;
    const list = (): Promise<ListeningPort[]> => Promise.resolve([p(7)]).finally(() => polls++);
    const { events, done } = collect(watchListeningPorts(1, { intervalMs: 600_000, signal: ac.signal }, { list, isAlive: () => true }));
    await waitFor(() => events.length === 1, 'the first poll');
    ac.abort();
    await done;
    assert.equal(polls, 1);
    assert.deepEqual(seen(events), ['listening 7']);
  });

  it('passes a failing poll on and refuses a non-positive interval', async () => {
    const failing = collect(watchListeningPorts(1, { intervalMs: 5 }, { list: () => Promise.reject(new Error('lsof: not found')), isAlive: () => true }));
    await assert.rejects(failing.done, /lsof: not found/);
    await assert.rejects(collect(watchListeningPorts(1, { intervalMs: 0 })).done, RangeError);
  });
});

// A debuggee that listens at once, and its child that listens only when told: the test writes
// "listen <host>" or "close" lines to the root, which passes them on to the child.
const CHILD = `
const net = require('net');
let servers = [];
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, host] = line.split(' ');
  if (cmd === 'listen') { const s = net.createServer().listen(0, host, () => console.log('listening ' + s.address().port)); servers.push(s); }
  if (cmd === 'close') { for (const s of servers) s.close(); servers = []; console.log('closed'); }
}).on('close', () => process.exit(0));
`;
const ROOT = `
const net = require('net');
const child = require('child_process').spawn(process.execPath, ['-e', process.argv[1]], { stdio: ['pipe', 'inherit', 'inherit'] });
const s = net.createServer().listen(0, '127.0.0.1', () => console.log('root ' + s.address().port + ' child ' + child.pid));
process.stdin.pipe(child.stdin);
process.stdin.on('end', () => process.exit(0));
`;

/** Lines a process prints, each taken once by the first wait that matches it. */
function lines(proc: { stdout: NodeJS.ReadableStream }): { next(re: RegExp): Promise<RegExpExecArray> } {
  const seenLines: string[] = [];
  let partial = '';
  proc.stdout.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    seenLines.push(...parts);
  });
  return {
    async next(re) {
      let m: RegExpExecArray | null = null;
      await waitFor(() => {
        const at = seenLines.findIndex((l) => (m = re.exec(l)) !== null);
        if (at >= 0) seenLines.splice(0, at + 1);
        return at >= 0;
      }, `a line like ${re}`);
      return m as unknown as RegExpExecArray;
    },
  };
}

async function ipv6Loopback(): Promise<boolean> {
  const s = createServer();
  try {
    s.listen(0, '::1');
    await once(s, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

describe('watching listening ports of real processes', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  it("reports a grandchild's ports only once it listens (127.0.0.1, and ::1 where there is IPv6 loopback), never an unrelated process's", async () => {
    const hosts = (await ipv6Loopback()) ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
    const unrelated: Server = createServer().listen(0, '127.0.0.1');
    await once(unrelated, 'listening');
    const unrelatedPort = (unrelated.address() as { port: number }).port;
    const root = spawn(process.execPath, ['-e', ROOT, CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    const ac = new AbortController();
    try {
      const out = lines(root);
      const [, rootPort, childPid] = (await out.next(/^root (\d+) child (\d+)$/)).map(Number);
      const { events, done } = collect(watchListeningPorts(root.pid!, { intervalMs: 25, signal: ac.signal }));
      const has = (kind: string, pid: number, port?: number): boolean =>
        events.some((e) => e.kind === kind && e.port.pid === pid && (port === undefined || e.port.port === port));

      await waitFor(() => has('listening', root.pid!, rootPort), "the root's own port");
      assert.ok(!events.some((e) => e.port.pid === childPid), 'nothing of the child before it listens');

      for (const host of hosts) {
        root.stdin.write(`listen ${host}\n`);
        const [, childPort] = (await out.next(/^listening (\d+)$/)).map(Number);
        await waitFor(() => has('listening', childPid!, childPort), `the child's port on ${host}`);
        assert.deepEqual(events.find((e) => e.port.pid === childPid && e.port.port === childPort)?.port, { port: childPort, address: host, pid: childPid });
        root.stdin.write('close\n');
        await waitFor(() => has('closed', childPid!, childPort), `the child's port on ${host} closing`);
        await out.next(/^closed$/);
      }

      root.stdin.end(); // the root exits, and its child with it
      await done;
      assert.ok(has('closed', root.pid!, rootPort), "the root's port reported closed when it ended");
      assert.ok(!events.some((e) => e.port.port === unrelatedPort), 'the test process is not in the tree');
    } finally {
      ac.abort();
      root.kill();
      unrelated.close();
    }
  });
});
