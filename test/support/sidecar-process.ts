// Starts the built sidecar (proxy-image/dist/intercept-proxy.js) as a real process on loopback, as a
// pod would run it, and ends it. Tests read its JSON log lines and its memory.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../../src/protocol/constants';

export const SIDECAR_BUNDLE = path.resolve(__dirname, '../../proxy-image/dist/intercept-proxy.js');

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * `count` different free ports. Each is held until all are chosen: one port asked for after another
 * was let go can be that same port again (seen: "port 38727 is used twice").
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer().listen(0, '127.0.0.1'));
  try {
    await Promise.all(servers.map((s) => once(s, 'listening')));
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export interface SidecarOptions {
  /** App ports to serve; one listen port is allocated for each. */
  readonly appPorts: readonly number[];
  /** Listen ports to use instead (one per app port), for a test that must know them before the start. */
  readonly listenPorts?: readonly number[];
  readonly graceSeconds?: number;
  /** --shutdown-delay; 0 unless a test is about it. */
  readonly shutdownDelaySeconds?: number;
  readonly logLevel?: string;
  readonly extraArgs?: readonly string[];
  /** The process's limit of open files (RLIMIT_NOFILE), set as a pod's runtime would. */
  readonly fdLimit?: number;
  /** Another build of the sidecar to run (an older version, for compatibility tests). */
  readonly bundle?: string;
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export class SidecarProcess {
  readonly logs: LogLine[] = [];
  rawOutput = '';
  private exited = false;

  private constructor(
    readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly listenPorts: readonly number[],
    readonly controlPort: number,
    readonly healthPort: number,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  static async start(opts: SidecarOptions): Promise<SidecarProcess> {
    const given = opts.listenPorts ?? [];
    const fresh = (await freePorts(Math.max(0, opts.appPorts.length - given.length) + 2 + given.length)).filter((p) => !given.includes(p));
    const listenPorts: number[] = [...given, ...fresh.splice(0, Math.max(0, opts.appPorts.length - given.length))];
    const [controlPort, healthPort] = fresh as [number, number];
    const args = [
      ...SIDECAR_NODE_ARGS,
      opts.bundle ?? SIDECAR_BUNDLE,
      ...opts.appPorts.flatMap((app, i) => ['--listen', `${listenPorts[i]}:${app}`]),
      '--control-port', String(controlPort),
      '--health-port', String(healthPort),
      '--bind-address', '127.0.0.1',
      '--grace', String(opts.graceSeconds ?? 10),
      '--log-level', opts.logLevel ?? 'info',
      // Tests stop sidecars often; the delay that waits for a cluster's endpoints is tested on its own.
      '--shutdown-delay', String(opts.shutdownDelaySeconds ?? 0),
      ...(opts.extraArgs ?? []),
    ];
    const env = { ...process.env, ...SIDECAR_ENV };
    // With a limit, a shell sets it and then becomes the sidecar (exec), so the pid stays the sidecar's.
    const child =
      opts.fdLimit === undefined
        ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
        : spawn('/bin/sh', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const sidecar = new SidecarProcess(child, listenPorts, controlPort, healthPort);
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      sidecar.rawOutput += chunk;
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          sidecar.logs.push(JSON.parse(line) as LogLine);
        } catch {
          sidecar.logs.push({ level: 'raw', msg: line });
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (sidecar.rawOutput += chunk));
    await sidecar.waitForLog((l) => l.msg === 'intercept-proxy started', 10_000);
    return sidecar;
  }

  get port(): number {
    return this.listenPorts[0]!;
  }

  get alive(): boolean {
    return !this.exited && this.child.exitCode === null;
  }

  /** Resident memory of the sidecar process, in bytes (from /proc). */
  rss(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status);
    if (!kb) throw new Error('no VmRSS in /proc status');
    return Number(kb[1]) * 1024;
  }

  /**
   * CPU time (user + system) the sidecar process has used so far, in seconds, from /proc. Linux
   * reports it in USER_HZ ticks, which is 100 per second on every architecture Node runs on.
   */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line; the slice starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** Resolves with the first log line (already logged or coming) that matches. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> {
    const found = this.logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onData = (): void => {
        const hit = this.logs.find(match);
        if (hit) {
          cleanup();
          resolve(hit);
        }
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`sidecar exited before the expected log line; output:\n${this.rawOutput}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`expected sidecar log line did not come within ${timeoutMs} ms; output:\n${this.rawOutput}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.stdout.off('data', onData);
        this.child.off('exit', onExit);
      };
      this.child.stdout.on('data', onData);
      this.child.once('exit', onExit);
    });
  }

  /**
   * File descriptors the process holds below `limit` (from /proc). Only those count against an
   * RLIMIT_NOFILE of `limit`: a new descriptor always takes the lowest free number.
   */
  openFdsBelow(limit: number): number {
    return readdirSync(`/proc/${this.child.pid}/fd`).filter((fd) => Number(fd) < limit).length;
  }

  /** Resolves with the exit code once the process has ended; rejects if it runs on past `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<number | null> {
    if (!this.alive) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('exit', onExit);
        reject(new Error(`the sidecar was still running ${timeoutMs} ms later`));
      }, timeoutMs);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        resolve(code);
      };
      this.child.once('exit', onExit);
    });
  }

  /** Stops the sidecar; throws if it ever logged an exception it did not handle where it happened. */
  async stop(): Promise<void> {
    const crash = this.logs.find((l) => l.msg === 'uncaught exception' || l.msg === 'unhandled rejection');
    await this.kill();
    if (crash) throw new Error(`the sidecar hit an unhandled error: ${JSON.stringify(crash)}`);
  }

  private async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
