// The cluster suite: builds (or reuses) the control plane's binaries, starts the test cluster, runs
// test/cluster/*.test.ts with node's test runner (teardown.test.ts last: it takes the cluster down and
// checks nothing is left), and always takes the cluster down at the end. Exits non-zero on any failure.
// Build and cluster output goes to stderr; stdout carries the test runner's spec report.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeconfigPath } from '../../scripts/cluster/versions.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = path.join(root, 'test', 'cluster');
const clusterScript = path.join(root, 'scripts', 'cluster', 'cluster.mjs');
const LAST = 'teardown.test.ts';

let current;

function run(cmd, args, { toStdout = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = (current = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', toStdout ? 'inherit' : process.stderr, 'inherit'],
    }));
    child.on('error', (err) => {
      console.error(`[cluster suite] ${cmd}: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const secs = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

// Interrupted: the cluster's processes are detached from this one, so take them down before leaving.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`[cluster suite] ${sig}: taking the cluster down`);
    if (current && current.exitCode === null) current.kill('SIGTERM');
    spawnSync(process.execPath, [clusterScript, 'down'], { stdio: ['ignore', process.stderr, 'inherit'], timeout: 120_000 });
    process.exit(130);
  });
}
let failed = false;

let t = Date.now();
const built = await run(process.execPath, [path.join(root, 'scripts', 'cluster', 'build.mjs')]);
console.log(`[cluster suite] binaries ${built === 0 ? 'ready' : 'FAILED'} after ${secs(t)}`);
if (built !== 0) process.exit(1);

try {
  t = Date.now();
  const up = await run(process.execPath, [clusterScript, 'up']);
  console.log(`[cluster suite] cluster ${up === 0 ? 'up' : 'FAILED to start'} after ${secs(t)}`);
  if (up !== 0) {
    failed = true;
  } else {
    const files = readdirSync(here)
      .filter((f) => f.endsWith('.test.ts') && f !== LAST)
      .sort()
      .map((f) => path.join('test', 'cluster', f));
    t = Date.now();
    // The runner does not keep the order of its files, so the teardown test runs on its own, last.
    for (const batch of [files, [path.join('test', 'cluster', LAST)]]) {
      const code = await run(
        process.execPath,
        ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=600000', ...batch],
        { toStdout: true, env: { INTERCEPT_KUBECONFIG: kubeconfigPath() } },
      );
      if (code !== 0) failed = true;
    }
    console.error(`[cluster suite] tests finished after ${secs(t)}`);
  }
} finally {
  // teardown.test.ts normally took the cluster down already; this is a no-op then.
  const down = await run(process.execPath, [clusterScript, 'down']);
  if (down !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
