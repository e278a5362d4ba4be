// The TCP ports a debug session's process tree listens on: the root process the editor knows (the
// debuggee, or only the debug adapter) and every process below it. One backend per platform, each
// reading the system through injected functions so that its parsing stays pure and testable.
import { execFile } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { linuxListeningPorts } from './listening-linux';
import { macosListeningPorts } from './listening-macos';
import { windowsListeningPorts } from './listening-windows';
import type { Exec, ListeningPort, ProcFs } from './listening-port';

export type { Exec, ExecResult, ListeningPort, ProcFs } from './listening-port';
export { connectHost } from './listening-address';

export const nodeProcFs: ProcFs = {
  readFile: (path) => readFile(path, 'utf8'),
  readdir: (path) => readdir(path),
  readlink: (path) => readlink(path),
};

export const nodeExec: Exec = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { windowsHide: true, maxBuffer: 16 * 1024 * 1024, timeout: 15_000 }, (err, stdout) => {
      if (!err) resolve({ stdout, code: 0 });
      else if (typeof err.code === 'number') resolve({ stdout, code: err.code });
      else reject(new Error(`${file}: ${err.message}`, { cause: err })); // not started (ENOENT), killed by the timeout, or too much output
    });
  });

export interface ListeningDeps {
  readonly platform: NodeJS.Platform;
  readonly procFs: ProcFs;
  readonly exec: Exec;
}

export const defaultListeningDeps: ListeningDeps = { platform: process.platform, procFs: nodeProcFs, exec: nodeExec };

/** Every TCP socket in LISTEN state held by `rootPid` or any of its descendants. */
export async function listeningPorts(rootPid: number, deps: Partial<ListeningDeps> = {}): Promise<ListeningPort[]> {
  const { platform, procFs, exec } = { ...defaultListeningDeps, ...deps };
  switch (platform) {
    case 'linux':
      return linuxListeningPorts(rootPid, procFs);
    case 'darwin':
      return macosListeningPorts(rootPid, exec);
    case 'win32':
      return windowsListeningPorts(rootPid, exec);
    default:
      throw new Error(`finding listening ports is not supported on ${platform}`);
  }
}
