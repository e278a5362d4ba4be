// One intercepted request in the request log.
import * as vscode from 'vscode';
import type { Intercept, RequestEvent } from '../../core/session/intercepts';
import { ContextValue } from '../ids';

export class RequestNode extends vscode.TreeItem {
  constructor(
    readonly intercept: Intercept,
    readonly request: RequestEvent,
  ) {
    super(`${request.method} ${request.path}`, vscode.TreeItemCollapsibleState.None);
    const time = new Date(request.time).toLocaleTimeString();
    const ok = request.status > 0 && request.status < 500;
    this.description = `${request.status || 'no answer'} · ${request.durationMs} ms · ${time}`;
    this.tooltip = `${request.method} ${request.path}\n${request.status} in ${request.durationMs} ms at ${new Date(request.time).toISOString()}\nService ${intercept.namespace}/${intercept.service}:${intercept.port}, pod ${request.pod}`;
    this.iconPath = new vscode.ThemeIcon(ok ? 'arrow-right' : 'warning');
    this.contextValue = ContextValue.request;
    this.accessibilityInformation = { label: `${request.method} ${request.path}, ${String(this.description)}` };
  }
}
