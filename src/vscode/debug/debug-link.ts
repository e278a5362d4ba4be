// What happens to an intercept when the debug session it serves ends: kept, paused (claims released,
// claimed again when the same launch configuration starts again) or stopped, as
// `intercept.onDebugSessionEnd` says.
import * as vscode from 'vscode';
import type { Intercept, Intercepts } from '../../core/session/intercepts';
import type { LocalPortCandidate } from '../local-port/candidates';
import { readSettings } from '../settings';

interface Link {
  readonly launch: string;
  readonly folder: string | undefined;
}

export class DebugLink implements vscode.Disposable {
  private readonly links = new Map<string, Link>();
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly intercepts: Intercepts,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables = [vscode.debug.onDidTerminateDebugSession((s) => void this.ended(s)), vscode.debug.onDidStartDebugSession((s) => void this.started(s))];
  }

  /** Ties an intercept to the launch configuration its port came from (none: it outlives sessions). */
  link(i: Intercept, candidate: LocalPortCandidate | undefined): void {
    if (candidate?.launch) this.links.set(i.id, { launch: candidate.launch, folder: candidate.folder?.uri.toString() });
    else this.links.delete(i.id);
  }

  /** The workspace folder of the launch configuration an intercept is tied to, if any. */
  folderOf(i: Intercept): vscode.Uri | undefined {
    const folder = this.links.get(i.id)?.folder;
    return folder === undefined ? undefined : vscode.Uri.parse(folder);
  }

  /** The intercept tied to a launch configuration (by name, in this folder), if any. */
  interceptFor(launch: string, folder: vscode.WorkspaceFolder | undefined): Intercept | undefined {
    return this.intercepts.list().find((i) => {
      const l = this.links.get(i.id);
      return l !== undefined && l.launch === launch && (l.folder === undefined || l.folder === folder?.uri.toString());
    });
  }

  private matching(s: vscode.DebugSession): Intercept[] {
    if (s.parentSession) return [];
    return this.intercepts.list().filter((i) => {
      const l = this.links.get(i.id);
      return l !== undefined && l.launch === s.configuration.name && (l.folder === undefined || l.folder === s.workspaceFolder?.uri.toString());
    });
  }

  private async ended(s: vscode.DebugSession): Promise<void> {
    const action = readSettings().onDebugSessionEnd;
    for (const i of this.matching(s)) {
      if (action === 'keep') continue;
      this.log.info(`Debug session "${s.name}" ended: ${action === 'pause' ? 'pausing' : 'stopping'} ${i.id}`);
      try {
        if (action === 'pause') await this.intercepts.pause(i.id);
        else await this.intercepts.stop(i.id);
      } catch (err) {
        this.log.warn(`${action} ${i.id}: ${(err as Error).message}`);
      }
    }
  }

  private async started(s: vscode.DebugSession): Promise<void> {
    for (const i of this.matching(s)) {
      if (i.status !== 'paused') continue;
      this.log.info(`Debug session "${s.name}" started: claiming ${i.id} again`);
      try {
        await this.intercepts.resume(i.id);
      } catch (err) {
        this.log.warn(`resume ${i.id}: ${(err as Error).message}`);
        void vscode.window.showWarningMessage(`Intercept could not claim ${i.service}:${i.port} again: ${(err as Error).message}`);
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
