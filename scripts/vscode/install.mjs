// Prepares a real VS Code for the editor tests: code-server (VS Code for the browser, from the npm
// registry) cached outside the repo in a folder keyed by its version, and Debian's Chromium to drive it.
//
//   node scripts/vscode/install.mjs        installs what is missing, prints the paths as JSON
//
// Importable: `ensureEditor()` returns { codeServerEntry, codeServerDir, chromium }.
// A complete cache holds a stamp file; with it present nothing is installed or downloaded again.
// Cache root: $INTERCEPT_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/intercept.
//
// A plain `npm install code-server` does not work as root without a network beyond the package
// registries, so the install runs its steps by hand:
//   * `--ignore-scripts`: code-server's postinstall refuses root, and @vscode/ripgrep's downloads rg
//     from GitHub; Debian's `rg` is put where @vscode/ripgrep expects its binary instead;
//   * the native `kerberos` module builds against Debian's libkrb5-dev (with pkg-config and a compiler);
//   * node-pty's build runs `npx node-gyp`, which must not ask questions: npm_config_yes=true;
//   * the remaining steps of code-server's postinstall (links, built-in extensions' dependencies,
//     argon2) are done here.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const CHROMIUM = '/usr/bin/chromium';
const APT_PACKAGES = {
  chromium: CHROMIUM,
  ripgrep: '/usr/bin/rg',
  'libkrb5-dev': '/usr/bin/krb5-config',
  'pkg-config': '/usr/bin/pkg-config',
  'build-essential': '/usr/share/build-essential/list',
};

export function cacheRoot() {
  if (process.env.INTERCEPT_CACHE_DIR) return process.env.INTERCEPT_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'intercept');
}

export function codeServerDir() {
  return path.join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
}

const STAMP = '.intercept-complete';
const log = (msg) => console.error(`[editor-install] ${msg}`);

function run(cmd, args, cwd, extraEnv = {}) {
  log(`${path.basename(cwd)}$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, {
    cwd,
    // Progress goes to stderr so a caller can keep stdout for test results.
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, npm_config_yes: 'true', npm_config_fund: 'false', npm_config_audit: 'false', ...extraEnv },
  });
}

function dpkgInstalled(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .includes('install ok installed');
  } catch {
    return false;
  }
}

/** Installs the Debian packages in `wanted` that are missing (`apt-get update` once). */
function ensureApt(wanted) {
  const missing = wanted.filter((p) => !existsSync(APT_PACKAGES[p]) && !dpkgInstalled(p));
  if (missing.length === 0) return;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const apt = (args) => run(sudo[0] ?? 'apt-get', sudo.length ? [...sudo.slice(1), 'apt-get', ...args] : args, process.cwd(), {
    DEBIAN_FRONTEND: 'noninteractive',
  });
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...missing]);
}

function relink(target, linkPath) {
  try {
    lstatSync(linkPath);
    rmSync(linkPath, { recursive: true, force: true });
  } catch {
    // nothing there yet
  }
  symlinkSync(target, linkPath);
}

function installCodeServer(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, name: 'intercept-editor-cache' }, null, 2));
  run('npm', ['install', '--ignore-scripts', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], dir);

  const pkg = path.join(dir, 'node_modules', 'code-server');
  const vscodeDir = path.join(pkg, 'lib', 'vscode');
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-package-lock'], vscodeDir);
  const rgBin = path.join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
  mkdirSync(rgBin, { recursive: true });
  copyFileSync(APT_PACKAGES.ripgrep, path.join(rgBin, 'rg'));
  run('npm', ['rebuild', '--foreground-scripts'], vscodeDir);

  // The rest of code-server's own postinstall.
  relink('node_modules', path.join(vscodeDir, 'node_modules.asar'));
  relink('code-linux.sh', path.join(vscodeDir, 'bin', 'remote-cli', 'code-server'));
  relink('browser-linux.sh', path.join(vscodeDir, 'bin', 'helpers', 'browser.sh'));
  run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-package-lock'], path.join(vscodeDir, 'extensions'));
  run('npm', ['rebuild', 'argon2', '--foreground-scripts'], dir);

  const entry = path.join(pkg, 'out', 'node', 'entry.js');
  if (!existsSync(entry)) throw new Error(`code-server entry missing after install: ${entry}`);
  writeFileSync(path.join(dir, STAMP), `${CODE_SERVER_VERSION}\n${new Date().toISOString()}\n`);
}

/** Makes sure code-server and Chromium are there; installs what is missing. */
export function ensureEditor() {
  const dir = codeServerDir();
  const started = Date.now();
  const needCodeServer = !existsSync(path.join(dir, STAMP));
  const needChromium = !existsSync(CHROMIUM);
  // One apt round (one `apt-get update`) for everything missing.
  ensureApt([...(needChromium ? ['chromium'] : []), ...(needCodeServer ? ['ripgrep', 'libkrb5-dev', 'pkg-config', 'build-essential'] : [])]);
  if (needCodeServer) {
    log(`installing code-server ${CODE_SERVER_VERSION} into ${dir}`);
    installCodeServer(dir);
  }
  const installed = needCodeServer || needChromium;
  if (installed) log(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    codeServerDir: dir,
    codeServerEntry: path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    codeServerVersion: readFileSync(path.join(dir, STAMP), 'utf8').split('\n')[0],
    chromium: CHROMIUM,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const result = ensureEditor();
  console.log(JSON.stringify({ ...result, seconds: Number(((Date.now() - t0) / 1000).toFixed(1)) }, null, 2));
}
