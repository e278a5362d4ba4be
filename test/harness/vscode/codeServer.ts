// Starts a real VS Code (code-server, VS Code for the browser) for one test and ends it again.
//
// Every start is fresh: a new run folder holds HOME, the XDG folders, the user data (with pre-seeded
// settings) and the extensions folder, so no state (breakpoints, recent folders, installed extensions)
// leaks from one test into the next. The server listens on 127.0.0.1 on a free port, without auth.
// It runs as the leader of its own session and process group (setsid), so stop() ends the whole tree:
// extension host, language servers, debug adapters and the programs they launched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureEditor } from '../../../scripts/vscode/install.mjs';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** Settings every test starts with: nothing opens by itself, nothing phones home, no trust prompt. */
export const BASE_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  // Ports that a debuggee opens stay its own: no forwarding, no probing requests.
  'remote.autoForwardPorts': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'workbench.editor.restoreViewState': false,
};

export interface CodeServerOptions {
  /** Folder opened in the workbench, or a `.code-workspace` file (a multi-root workspace). Default: an empty folder inside the run folder. */
  workspace?: string;
  /** Load the extension from this source folder as `extensionDevelopmentPath` (no packaging). */
  extensionDevelopmentPath?: string;
  /** Install these packaged extensions (`.vsix`) into the fresh extensions folder before starting. */
  vsix?: string[];
  /** A bundled CommonJS module run inside the extension host (see hostTests.ts). */
  extensionTestsPath?: string;
  /** Settings merged over BASE_SETTINGS. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server, and so for the extension host and what it launches. */
  env?: Record<string, string>;
  /** Bounded wait for /healthz. Default 60 s (the machine may be busy). */
  startTimeoutMs?: number;
  /** Keep the run folder after stop() (for inspection). Default: $INTERCEPT_KEEP_RUNS is set. */
  keepRunDir?: boolean;
}

export interface CodeServer {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** The workbench URL with folder (and development/test payload) filled in. */
  readonly workbenchUrl: string;
  readonly workspace: string;
  readonly runDir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly pid: number;
  /** What the server printed so far. */
  log(): string;
  /** Ends the whole process tree and removes the run folder. Safe to call twice. */
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);
/** Set in the environment of every process of a run (servers and browsers), so stragglers can be found. */
export const RUN_MARKER_VAR = 'INTERCEPT_VSCODE_RUN';

// Process groups of servers not stopped yet: ended when this process exits, whatever the reason.
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

/** Packages the extension with `npm run package` (a build, then vsce with only what .vscodeignore lets in) into `outDir`. */
export async function packageVsix(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const out = path.join(outDir, `${pkg.name}-${pkg.version}.vsix`);
  await execFileP('npm', ['run', 'package', '--', '--out', out], { cwd: REPO_ROOT, timeout: 180_000 });
  return out;
}

/** Pids of live processes whose environment carries `marker` (they escaped the process group). */
function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && env.split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Starts a fresh code-server and waits (bounded) until /healthz answers. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  const { codeServerEntry } = ensureEditor();
  const runDir = mkdtempSync(path.join(tmpdir(), 'intercept-vscode-'));
  const dirs = {
    home: path.join(runDir, 'home'),
    userData: path.join(runDir, 'user-data'),
    extensions: path.join(runDir, 'extensions'),
    xdgConfig: path.join(runDir, 'xdg', 'config'),
    xdgCache: path.join(runDir, 'xdg', 'cache'),
    xdgData: path.join(runDir, 'xdg', 'data'),
    xdgState: path.join(runDir, 'xdg', 'state'),
    xdgRuntime: path.join(runDir, 'xdg', 'runtime'),
    emptyWorkspace: path.join(runDir, 'workspace'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2),
  );
  const configFile = path.join(runDir, 'config.yaml');
  writeFileSync(configFile, '');
  const workspace = path.resolve(options.workspace ?? dirs.emptyWorkspace);

  // Every process of this run, even one that leaves the process group, inherits this marker.
  const runId = randomUUID();
  const marker = `${RUN_MARKER_VAR}=${runId}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_STATE_HOME: dirs.xdgState,
    XDG_RUNTIME_DIR: dirs.xdgRuntime,
    [RUN_MARKER_VAR]: runId,
    ...options.env,
  };
  // These belong to the parent test process, not to the editor's children.
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  delete env.VSCODE_IPC_HOOK_CLI;

  const common = ['--config', configFile, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  for (const vsix of options.vsix ?? []) {
    await execFileP(process.execPath, [codeServerEntry, ...common, '--force', '--install-extension', path.resolve(vsix)], {
      env,
      cwd: runDir,
      timeout: 120_000,
    });
  }

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const logFile = path.join(runDir, 'code-server.log');
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // detached: the child calls setsid(), so it leads a new session and process group (pgid = pid).
    child = spawn(
      process.execPath,
      [
        codeServerEntry,
        ...common,
        '--bind-addr', `127.0.0.1:${port}`,
        '--auth', 'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        workspace,
      ],
      { cwd: runDir, env, detached: true, stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  liveGroups.add(pid);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => (exited = true));
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  let stopped = false;
  const keep = options.keepRunDir ?? Boolean(process.env.INTERCEPT_KEEP_RUNS);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (groupAlive(pid) && Date.now() < deadline) await delay(100);
    signalGroup(pid, 'SIGKILL');
    if (!exited) await Promise.race([exitedPromise, delay(5_000)]);
    liveGroups.delete(pid);
    // Anything that started its own session (a terminal's shell, say) is found by the marker.
    for (let round = 0; round < 50; round++) {
      const stragglers = processesWithMarker(marker);
      if (stragglers.length === 0) break;
      for (const straggler of stragglers) {
        try {
          process.kill(straggler, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await delay(100);
    }
    if (!keep) rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  };

  try {
    await waitUntil(`code-server /healthz on ${origin}`, options.startTimeoutMs ?? 60_000, async () => {
      if (exited) throw new Error(`code-server exited during start:\n${readLog()}`);
      return (await httpStatus(`${origin}/healthz`, 2_000)) === 200 ? true : undefined;
    });
  } catch (err) {
    await stop();
    throw err;
  }

  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
  const payload: [string, string][] = [];
  if (options.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(options.extensionDevelopmentPath)]);
  if (options.extensionTestsPath) payload.push(['extensionTestsPath', remote(options.extensionTestsPath)]);
  const query = new URLSearchParams(workspace.endsWith('.code-workspace') ? { workspace } : { folder: workspace });
  if (payload.length > 0) query.set('payload', JSON.stringify(payload));

  return {
    port,
    origin,
    workbenchUrl: `${origin}/?${query.toString()}`,
    workspace,
    runDir,
    userDataDir: dirs.userData,
    extensionsDir: dirs.extensions,
    pid,
    log: readLog,
    stop,
  };
}
