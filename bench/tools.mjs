// Process and measurement helpers shared by the benchmark's parts.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const children = [];

/** Starts a process and resolves once its output matches `readyPattern`. */
export function start(cmd, args, readyPattern, { env, stdin = 'ignore' } = {}) {
  const child = spawn(cmd, args, { cwd: root, stdio: [stdin, 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk;
      const m = readyPattern.exec(out);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, match: m });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.once('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

export function track(child) {
  children.push(child);
  return child;
}

/** Last resort on exit: signals whatever still runs. */
export function stopAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
}

/** Ends a child and waits for it (SIGKILL after 5 s), so that none outlives the bench. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.removeAllListeners('exit');
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function stopEvery() {
  await Promise.all(children.map(stop));
}

export async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a process in bytes, from /proc. */
export function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** RSS split into private (anonymous) and file-backed pages; the node binary's own pages are file-backed. */
export function rssParts(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number((new RegExp(`${name}:\\s+(\\d+) kB`).exec(status) ?? [])[1]) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/**
 * Samples a process's RSS every `everyMs` until stopped: `samples` holds the RSS, `privateSamples`
 * its private (anonymous) part at the same moments; stop() returns the highest RSS seen.
 */
export function rssSampler(pid, everyMs = 50) {
  const samples = [];
  const privateSamples = [];
  const sample = () => {
    const parts = rssParts(pid);
    samples.push(parts.rss);
    privateSamples.push(parts.anon);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    samples,
    privateSamples,
    stop: () => {
      clearInterval(timer);
      sample();
      return Math.max(...samples);
    },
  };
}

export function openFiles(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * Raises this process's open-file limit (children inherit it): 10,000 connections need 10,000
 * descriptors in the client, the sidecar and the app each. Returns the soft limit in force.
 */
export function raiseFileLimit(wanted) {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${wanted}:${wanted}`], { stdio: 'ignore' });
  } catch {
    /* not allowed here: the caller scales down to what it got */
  }
  const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? wanted : Number(out);
}

function toMs(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

/** Runs wrk and reads its summary: requests/s, p50 and p99 in ms, and the errors it counted. */
async function runWrk(args, env = process.env) {
  const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'], env }));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  await once(child, 'exit');
  const rps = Number((/Requests\/sec:\s+([\d.]+)/.exec(out) ?? [])[1]);
  const p50 = toMs((/\s50%\s+(\S+)/.exec(out) ?? [])[1] ?? '');
  const p99 = toMs((/\s99%\s+(\S+)/.exec(out) ?? [])[1] ?? '');
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
  return { rps, p50, p99, errors: errors ? errors[0] : null };
}

const target = (port, headers) => [...headers.flatMap((h) => ['-H', h]), `http://127.0.0.1:${port}/`];

/** Saturation: wrk with a fixed number of connections, as fast as they go. */
export function wrk(port, { connections, seconds, headers = [] }) {
  return runWrk(['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...target(port, headers)]);
}

/**
 * A paced load: `connections` connections, each waiting `delayMs` after every response before its next
 * request (bench/paced.lua), so the offered rate stays far below saturation. wrk measures each
 * request from its send to its response.
 */
export function wrkPaced(port, { connections, delayMs, seconds, headers = [] }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', path.join(root, 'bench/paced.lua'), ...target(port, headers)];
  return runWrk(args, { ...process.env, WRK_DELAY_MS: String(delayMs) });
}

export function median(values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const MB = (bytes) => bytes / 1024 / 1024;

/** A sidecar on free loopback ports in front of the app on `appPort`, once it says it started. */
export async function startSidecar(bundle, nodeArgs, env, appPort, node = 'node') {
  const [listenPort, controlPort, healthPort] = [await freePort(), await freePort(), await freePort()];
  const { child } = await start(
    node,
    [...nodeArgs, bundle, '--listen', `${listenPort}:${appPort}`, '--control-port', String(controlPort), '--health-port', String(healthPort), '--bind-address', '127.0.0.1'],
    /intercept-proxy started/,
    { env },
  );
  return { child, listenPort, controlPort, healthPort };
}
