// The debug sessions running in this window, and the process id of each session's program as its
// debug adapter reports it (the Debug Adapter Protocol's `process` event, sent by js-debug, debugpy and
// others), so the ports its process tree listens on can be found. VS Code lists no running sessions by
// itself, so they are followed from their start.
import * as vscode from 'vscode';

interface ProcessEvent {
  readonly type?: string;
  readonly event?: string;
  readonly body?: { readonly systemProcessId?: unknown };
}

export class DebugSessions implements vscode.Disposable {
  private readonly sessions = new Map<string, vscode.DebugSession>();
  private readonly pids = new Map<string, number>();
  private readonly disposables: vscode.Disposable[];

  constructor() {
    if (vscode.debug.activeDebugSession) this.sessions.set(vscode.debug.activeDebugSession.id, vscode.debug.activeDebugSession);
    this.disposables = [
      vscode.debug.registerDebugAdapterTrackerFactory('*', {
        createDebugAdapterTracker: (session) => ({
          onDidSendMessage: (m: ProcessEvent) => {
            const pid = m.body?.systemProcessId;
            if (m.type === 'event' && m.event === 'process' && typeof pid === 'number' && pid > 0) this.pids.set(session.id, pid);
          },
        }),
      }),
      vscode.debug.onDidStartDebugSession((s) => this.sessions.set(s.id, s)),
      vscode.debug.onDidTerminateDebugSession((s) => {
        this.sessions.delete(s.id);
        this.pids.delete(s.id);
      }),
    ];
  }

  /** Top-level sessions (a child session, such as js-debug's, belongs to its parent). */
  running(): vscode.DebugSession[] {
    return [...this.sessions.values()].filter((s) => !s.parentSession || !this.sessions.has(s.parentSession.id));
  }

  /** The program pids known for a session and its child sessions. */
  pidsOf(session: vscode.DebugSession): number[] {
    const family = [...this.sessions.values()].filter((s) => s.id === session.id || s.parentSession?.id === session.id);
    return family.map((s) => this.pids.get(s.id)).filter((p): p is number => p !== undefined);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
