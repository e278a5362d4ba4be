// The status bar item: the active header and its target while intercepting; the state while
// connecting, reconnecting or paused; a warning look while the local port refuses. A click opens the
// intercept's quick pick (copy header, copy curl, request log, stop).
import * as vscode from 'vscode';
import type { Intercept, Intercepts } from '../core/session/intercepts';
import { headerLine } from './curl';
import { CommandId, ContextKey } from './ids';

export class InterceptStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('intercept.status', vscode.StatusBarAlignment.Left, 50);
  private readonly update = () => this.render();

  constructor(private readonly intercepts: Intercepts) {
    this.item.name = 'Intercept';
    this.item.command = CommandId.statusBarMenu;
    // A local refusal or a request changes what shows only through the intercept's status, which
    // 'changed' reports; nothing here runs per request.
    intercepts.on('changed', this.update);
    intercepts.on('ended', this.update);
    this.render();
  }

  /** The intercept the status bar speaks of: the latest one started. */
  shown(): Intercept | undefined {
    return this.intercepts.list().sort((a, b) => b.startedAt - a.startedAt)[0];
  }

  private render(): void {
    const all = this.intercepts.list();
    const i = this.shown();
    void vscode.commands.executeCommand('setContext', ContextKey.intercepting, all.length > 0);
    if (!i) {
      this.item.hide();
      return;
    }
    const more = all.length > 1 ? ` (+${all.length - 1})` : '';
    const target = `${i.service}:${i.port} → localhost:${i.localPort}`;
    const texts: Record<Intercept['status'], string> = {
      connecting: `$(sync~spin) ${headerLine(i)} · connecting`,
      active: `$(debug-alt) ${headerLine(i)}`,
      reconnecting: `$(sync~spin) ${headerLine(i)} · reconnecting`,
      paused: `$(debug-pause) ${headerLine(i)} · paused`,
      'local-refused': `$(warning) ${headerLine(i)} · nothing on localhost:${i.localPort}`,
      stopped: '',
    };
    this.item.text = texts[i.status] + more;
    this.item.tooltip = `Intercept ${i.namespace}/${target} (${i.status})\nRequests with "${headerLine(i)}" come to this workspace.\nClick for actions.`;
    this.item.backgroundColor = i.status === 'local-refused' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: `Intercept ${headerLine(i)}, ${i.status}` };
    this.item.show();
  }

  dispose(): void {
    this.intercepts.off('changed', this.update);
    this.intercepts.off('ended', this.update);
    this.item.dispose();
  }
}
