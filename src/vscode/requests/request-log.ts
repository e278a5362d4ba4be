// The request log: every intercepted request, newest first, in a view of its own and as a line in the
// Output channel. It keeps the last MAX_ENTRIES.
import * as vscode from 'vscode';
import type { Intercept, Intercepts, RequestEvent } from '../../core/session/intercepts';
import { RequestNode } from './request-node';

const MAX_ENTRIES = 500;

export class RequestLog implements vscode.TreeDataProvider<RequestNode>, vscode.Disposable {
  private entries: RequestNode[] = [];
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly onRequest = (i: Intercept, r: RequestEvent) => this.add(i, r);

  constructor(
    private readonly intercepts: Intercepts,
    private readonly output: vscode.LogOutputChannel,
  ) {
    intercepts.on('request', this.onRequest);
  }

  private add(i: Intercept, r: RequestEvent): void {
    this.entries.unshift(new RequestNode(i, r));
    if (this.entries.length > MAX_ENTRIES) this.entries.length = MAX_ENTRIES;
    this.output.info(`${i.service}.${i.namespace}:${i.port} ${r.method} ${r.path} → ${r.status || 'no answer'} in ${r.durationMs} ms (pod ${r.pod})`);
    this.changed.fire(undefined);
  }

  clear(): void {
    this.entries = [];
    this.changed.fire(undefined);
  }

  getTreeItem(node: RequestNode): vscode.TreeItem {
    return node;
  }

  getChildren(node?: RequestNode): RequestNode[] {
    return node ? [] : this.entries;
  }

  dispose(): void {
    this.intercepts.off('request', this.onRequest);
    this.changed.dispose();
  }
}
