// The editor tests: the extension in a real VS Code (code-server) driven by a real browser (Chromium).
//   1. installs code-server and Chromium, or reuses the cache (scripts/vscode/install.mjs);
//   2. builds the extension, and builds (or reuses) and starts the test cluster, which the intercept
//      tests use and which is always taken down at the end;
//   3. runs test/vscode/*.test.ts with node's test runner (spec reporter on stdout), one file at a
//      time: each test starts and stops its own code-server and browser;
//   4. checks that no process of any run is left, and exits non-zero on any failure.
// A failing UI test leaves a screenshot and the server's log in .test-artifacts/vscode/.
// Progress and timings go to stderr; stdout carries only the test reporter's output.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureEditor } from '../../scripts/vscode/install.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = path.join(root, 'test', 'vscode');
const RUN_MARKER_VAR = 'INTERCEPT_VSCODE_RUN'; // set by test/harness/vscode/ for servers and browsers
const SUITE_BOUND_MS = 30 * 60_000;
const say = (msg) => console.error(`[vscode] ${msg}`);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

// Screenshots and logs of an earlier run would only mislead.
rmSync(path.join(root, '.test-artifacts', 'vscode'), { recursive: true, force: true });

let t = Date.now();
ensureEditor();
say(`code-server and Chromium ready (${seconds(t)})`);

t = Date.now();
execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
say(`extension built (${seconds(t)})`);

const clusterScript = path.join(root, 'scripts', 'cluster', 'cluster.mjs');
const cluster = (verb) => spawnSync(process.execPath, [clusterScript, verb], { cwd: root, stdio: ['ignore', process.stderr, process.stderr], timeout: 300_000 }).status === 0;
t = Date.now();
execFileSync(process.execPath, [path.join(root, 'scripts', 'cluster', 'build.mjs')], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
if (!cluster('up')) {
  cluster('down');
  say('the test cluster did not start');
  process.exit(1);
}
say(`test cluster up (${seconds(t)})`);

// `node test/vscode/run.mjs views intercept` runs only the files whose names contain one of the words.
const words = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.ts') && (words.length === 0 || words.some((w) => f.includes(w))))
  .sort()
  .map((f) => path.join('test', 'vscode', f));

t = Date.now();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);
// On Ctrl-C or a stop from outside, let the tests end first, then sweep for what they left.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
const watchdog = setTimeout(() => {
  say(`suite exceeded ${SUITE_BOUND_MS / 60_000} min; stopping it`);
  child.kill('SIGTERM');
}, SUITE_BOUND_MS);
const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
clearTimeout(watchdog);
say(`tests finished (${seconds(t)})`);
const down = cluster('down');
if (!down) say('taking the test cluster down failed');

// Every process a test started carries the run marker in its environment; none may outlive the tests.
const leftovers = [];
for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
    if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((v) => v.startsWith(`${RUN_MARKER_VAR}=`))) {
      leftovers.push(Number(pid));
    }
  } catch {
    // gone meanwhile
  }
}
if (leftovers.length > 0) {
  say(`processes left behind by the tests (ending them): ${leftovers.join(', ')}`);
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
process.exit(code === 0 && leftovers.length === 0 && down ? 0 : 1);
