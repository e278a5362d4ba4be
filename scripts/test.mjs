// Runs every check and every test suite, then prints one closing line "N passed, N failed".
//   typecheck and lint first (zero warnings);
//   test/unit and test/sidecar: node's test runner on real processes and sockets on loopback;
//   test/<suite>/run.mjs for suites that need an environment (cluster, code-server): each one
//   prepares its environment, runs node's test runner and takes the environment down again.
// Pass suite names to run only those: `npm test -- unit sidecar`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.slice(2);
const wanted = (name) => only.length === 0 || only.includes(name);

function run(cmd, args, { count = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    // Every summary node's test runner prints ("ℹ pass N", "ℹ fail N") counts: a suite may run it more than once.
    let partial = '';
    let passed = 0;
    let failed = 0;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^\S*\s*(pass|fail) (\d+)$/.exec(line);
        if (!count || !m) continue;
        if (m[1] === 'pass') passed += Number(m[2]);
        else failed += Number(m[2]);
      }
    });
    child.on('close', (code, signal) => resolve({ ok: code === 0, code, signal, passed, failed }));
  });
}

const testFiles = (dir) =>
  existsSync(path.join(root, dir))
    ? readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(dir, f))
    : [];

let passed = 0;
let failed = 0;
const problems = [];
const tally = (name, r) => {
  passed += r.passed;
  failed += r.failed;
  if (!r.ok) problems.push(`${name} (exit ${r.code ?? r.signal})`);
  if (!r.ok && r.failed === 0) failed += 1; // a suite that broke before counting still fails the run
};

if (wanted('checks')) {
  tally('typecheck', await run('npx', ['tsc', '-p', '.', '--noEmit']));
  tally('lint', await run('npx', ['eslint', '--max-warnings', '0', '.']));
}

const direct = ['unit', 'sidecar'].filter(wanted).flatMap((s) => testFiles(`test/${s}`));
if (direct.length > 0) {
  tally('unit+sidecar', await run('node', ['--import', 'tsx', '--test', '--test-reporter=spec', ...direct], { count: true }));
}

const envSuites = existsSync(path.join(root, 'test'))
  ? readdirSync(path.join(root, 'test')).filter((d) => existsSync(path.join(root, 'test', d, 'run.mjs'))).sort()
  : [];
for (const suite of envSuites.filter(wanted)) {
  tally(suite, await run('node', [`test/${suite}/run.mjs`], { count: true }));
}

if (problems.length > 0) console.log(`\nfailed: ${problems.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(problems.length === 0 && failed === 0 ? 0 : 1);
