// One network namespace per pod, so that 127.0.0.1:<port> inside a pod means that pod's own processes,
// as in a real pod. The namespace starts with only its loopback (127.0.0.1); the pod runner then puts
// it on the cluster's pod network (pod-network.ts: `eth0` with the pod IP), so a process listening
// on 127.0.0.1 only is not reachable at the pod IP, as in a real pod. The harness's own connections
// into a pod are made by `ip netns exec <ns> socat`, whose stdin/stdout are the byte stream.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Prefix of every namespace this harness creates; `npm run cluster:down` removes leftovers. */
export const NETNS_PREFIX = 'intercept-pod-';

/** The namespace name of a pod, derived from its uid (so any helper can find it without the runner). */
export function podNetnsName(podUid: string): string {
  return `${NETNS_PREFIX}${podUid.replace(/-/g, '').slice(0, 16)}`;
}

async function ip(args: string[]): Promise<string> {
  const { stdout } = await run('ip', args, { timeout: 10_000 });
  return stdout;
}

export async function netnsExists(name: string): Promise<boolean> {
  const out = await ip(['netns', 'list']);
  return out.split('\n').some((l) => l.trim().split(/\s+/)[0] === name);
}

/** A namespace with its loopback up; `loopbackIP` also on the loopback (a hostNetwork pod's node IP). */
export async function createNetns(name: string, loopbackIP?: string): Promise<void> {
  await ip(['netns', 'add', name]);
  try {
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    if (loopbackIP) await ip(['-n', name, 'addr', 'add', `${loopbackIP}/${loopbackIP.includes(':') ? 128 : 32}`, 'dev', 'lo']);
  } catch (err) {
    await ip(['netns', 'delete', name]).catch(() => undefined);
    throw err;
  }
}

/** Pids of every process inside the namespace. */
export async function netnsPids(name: string): Promise<number[]> {
  const out = await ip(['netns', 'pids', name]).catch(() => '');
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => p > 0);
}

/** TCP ports something listens on inside the namespace (any address), from `ss`. */
export async function listeningPorts(name: string): Promise<Set<number>> {
  const { stdout } = await run('ip', ['netns', 'exec', name, 'ss', '-Hltn'], { timeout: 10_000 });
  const ports = new Set<number>();
  for (const line of stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (local) ports.add(Number(local.slice(local.lastIndexOf(':') + 1)));
  }
  return ports;
}

/** Kills whatever still runs inside (processes the test started there), then removes the namespace. */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  for (const pid of await netnsPids(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await ip(['netns', 'delete', name]);
}

/** Command line that runs `cmd args...` inside the namespace. */
export function inNetns(name: string, cmd: string, args: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', name, cmd, ...args]];
}

/** socat as a command whose stdin/stdout is a TCP connection to host:port inside the namespace. */
export function socatCommand(name: string, port: number, host = '127.0.0.1'): string[] {
  // nodelay, as a kubelet's forward (Go sets TCP_NODELAY): without it Nagle's algorithm and delayed
  // ACKs add 40 ms to small back-to-back writes, such as a tunnel's HTTP/2 frames.
  const target = host.includes(':') ? `TCP6:[${host}]:${port},nodelay` : `TCP4:${host}:${port},nodelay`;
  return ['ip', 'netns', 'exec', name, 'socat', '-', target];
}

/** A Duplex over a child process's stdout (readable side) and stdin (writable side). */
class ProcessStream extends Duplex {
  constructor(private readonly child: ChildProcess) {
    super({ allowHalfOpen: true });
    const out = child.stdout!;
    out.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) out.pause();
    });
    out.on('end', () => this.push(null));
    child.stdin!.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.child.stdin!.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin!.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    cb(err);
  }

  // net.Socket methods an HTTP client may call on its connection.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
}

/**
 * Opens a TCP connection to host:port inside a pod's namespace. Resolves once connected; rejects with
 * socat's own message (e.g. connection refused) otherwise.
 */
export function connectInNetns(name: string, port: number, { host = '127.0.0.1', timeoutMs = 10_000 } = {}): Promise<Duplex> {
  const [cmd, ...args] = socatCommand(name, port, host);
  // -d -d makes socat report "starting data transfer loop" once the connection is up.
  args.splice(args.indexOf('socat') + 1, 0, '-d', '-d');
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stream = new ProcessStream(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    let connected = false;
    const timer = setTimeout(() => fail(new Error(`connecting to ${host}:${port} in ${name} took over ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      stream.destroy();
      reject(err);
    };
    child.stderr.on('data', (chunk: Buffer) => {
      if (connected) return;
      stderr += chunk.toString();
      if (stderr.includes('starting data transfer loop')) {
        connected = true;
        clearTimeout(timer);
        resolve(stream);
      }
    });
    child.on('error', (err) => (connected ? stream.destroy(err) : fail(err)));
    child.on('exit', (code, signal) => {
      if (!connected) {
        const why = stderr.split('\n').find((l) => / E /.test(l)) ?? stderr.trim();
        fail(new Error(`cannot connect to ${host}:${port} in ${name} (socat exit ${code ?? signal}): ${why}`));
      }
    });
  });
}

/** True when something accepts connections on host:port inside the namespace. */
export async function canConnect(name: string, port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    const s = await connectInNetns(name, port, { host, timeoutMs: 5_000 });
    s.destroy();
    return true;
  } catch {
    return false;
  }
}

export type LookupResult = { addresses: string[] } | { code: string };

/**
 * Resolves `host` (IPv4) as a program inside the namespace would: getaddrinfo, with the namespace's
 * resolv.conf (a pod's names the cluster DNS). `{ code }` is the resolver's error, e.g. ENOTFOUND for
 * a name that does not exist.
 */
export async function lookupInNetns(name: string, host: string, timeoutMs = 20_000): Promise<LookupResult> {
  const script =
    "require('node:dns').lookup(process.argv[1], { all: true, family: 4 }, (err, found) => " +
    'process.stdout.write(JSON.stringify(err ? { code: err.code } : { addresses: found.map((a) => a.address) })))';
  const { stdout } = await run('ip', ['netns', 'exec', name, process.execPath, '-e', script, host], { timeout: timeoutMs });
  return JSON.parse(stdout) as LookupResult;
}
