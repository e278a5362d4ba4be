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

const JS_DEBUG_TYPES: ReadonlySet<string> = new Set(['pwa-node', 'node', 'node-terminal', 'pwa-extensionHost']);
const ASK_PID_TIMEOUT_MS = 2000;

/** A debuggee process, and ports of its that belong to the debugger (Node's inspector), not the program. */
export interface DebuggeeProcess {
  readonly pid: number;
  readonly debuggerPorts: readonly number[];
}

async function askProcess(session: vscode.DebugSession): Promise<DebuggeeProcess | undefined> {
  try {
    const answer = (await Promise.race([
      session.customRequest('evaluate', { expression: '`${process.pid} ${process.debugPort}`', context: 'repl' }),
      new Promise((resolve) => setTimeout(resolve, ASK_PID_TIMEOUT_MS).unref()),
    ])) as { result?: unknown } | undefined;
    const result = typeof answer?.result === 'string' ? answer.result : '';
    const [pid, debugPort] = result
      .replace(/['"]/g, '')
      .split(' ')
      .map(Number);
    if (!Number.isInteger(pid) || pid! <= 0) return undefined;
    return { pid: pid!, debuggerPorts: Number.isInteger(debugPort) && debugPort! > 0 ? [debugPort!] : [] };
  } catch {
    return undefined;
  }
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

  /**
   * The program pids of a session and its child sessions: as their adapters reported them, or, for a
   * JavaScript session (js-debug reports none), asked of the program itself by evaluating
   * `process.pid` in it, which a running Node program answers without pausing (with its inspector's
   * port, which is the debugger's and not the program's).
   */
  async processesOf(session: vscode.DebugSession): Promise<DebuggeeProcess[]> {
    const family = [...this.sessions.values()].filter((s) => s.id === session.id || s.parentSession?.id === session.id);
    const found: DebuggeeProcess[] = [];
    for (const s of family) {
      const reported = this.pids.get(s.id);
      if (reported !== undefined) found.push({ pid: reported, debuggerPorts: [] });
      else if (JS_DEBUG_TYPES.has(s.type) && '__pendingTargetId' in s.configuration) {
        const asked = await askProcess(s);
        if (asked !== undefined) found.push(asked);
      }
    }
    return found;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
