// Where the local port may come from: the running debug sessions (their launch configuration, and the
// ports their program's process tree listens on, which is the surest sign), or, when none runs, the
// launch configurations of the workspace folders.
import path from 'node:path';
import * as vscode from 'vscode';
import { detectPorts, type LaunchConfiguration, type PortCandidate, type PortWorkspace } from '../../core/ports/detect';
import { listeningPorts } from '../../core/ports/listening';
import type { DebugSessions } from '../debug/debug-sessions';

export interface LocalPortCandidate extends PortCandidate {
  readonly folder?: vscode.WorkspaceFolder;
  /** The launch configuration it came from, to start it when no session runs. */
  readonly launch?: string;
  /** A debug session runs with it now. */
  readonly running: boolean;
}

function portWorkspace(folder: vscode.WorkspaceFolder | undefined): PortWorkspace {
  const root = folder?.uri.fsPath ?? process.cwd();
  return {
    folder: root,
    env: process.env,
    async readFile(p: string) {
      try {
        return new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(path.resolve(root, p))));
      } catch {
        return undefined;
      }
    },
  };
}

async function fromSession(session: vscode.DebugSession, sessions: DebugSessions): Promise<LocalPortCandidate[]> {
  const folder = session.workspaceFolder;
  const name = session.configuration.name;
  const configured = (await detectPorts(session.configuration as LaunchConfiguration, portWorkspace(folder))).map((c) => ({ ...c, folder, launch: name, running: true }));
  const listening: { port: number; address: string }[] = [];
  for (const p of await sessions.processesOf(session)) {
    for (const l of await listeningPorts(p.pid).catch(() => [])) if (!p.debuggerPorts.includes(l.port)) listening.push(l);
  }
  if (listening.length === 0) return configured;
  // The program listens: a port it listens on that its configuration also names is certain (its other
  // ports are only a guess then); without such agreement every port it listens on is likely. The
  // configuration's own guesses are noise once the program has shown what it does.
  const agreed = listening.filter((l) => configured.some((c) => c.port === l.port));
  const say = (l: { port: number; address: string }) => `debug session "${name}" listens on ${l.address}:${l.port}`;
  return [
    ...agreed.map((l): LocalPortCandidate => ({ port: l.port, source: say(l), confidence: 'certain', folder, launch: name, running: true })),
    ...listening.filter((l) => !agreed.includes(l)).map((l): LocalPortCandidate => ({ port: l.port, source: say(l), confidence: agreed.length > 0 ? 'guess' : 'likely', folder, launch: name, running: true })),
  ];
}

async function fromLaunchConfigurations(): Promise<LocalPortCandidate[]> {
  const found: LocalPortCandidate[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const configs = vscode.workspace.getConfiguration('launch', folder.uri).get<LaunchConfiguration[]>('configurations') ?? [];
    for (const config of configs) {
      if (!config || typeof config !== 'object') continue;
      const launch = typeof config.name === 'string' ? config.name : undefined;
      for (const c of await detectPorts(config, portWorkspace(folder))) found.push({ ...c, folder, ...(launch ? { launch } : {}), running: false });
    }
  }
  return found;
}

export async function localPortCandidates(sessions: DebugSessions): Promise<LocalPortCandidate[]> {
  const running = sessions.running();
  if (running.length > 0) {
    const all = (await Promise.all(running.map((s) => fromSession(s, sessions)))).flat();
    if (all.length > 0) return all;
  }
  return fromLaunchConfigurations();
}
