// Makes a fresh clone ready: installs the npm dependencies when the lock file changed, then builds.
// Heavier environments (the test cluster, code-server) are prepared by the suites that need them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

const lockHash = createHash('sha256').update(readFileSync(new URL('../package-lock.json', import.meta.url))).digest('hex');
const stamp = new URL('../node_modules/.intercept-lock-hash', import.meta.url);
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  console.log('setup: installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, lockHash);
}
run('node', ['scripts/build.mjs']);
