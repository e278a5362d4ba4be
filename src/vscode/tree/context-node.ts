// The tree's root: the kubeconfig context the window works with.
import * as vscode from 'vscode';
import { ContextValue } from '../ids';

export class ContextNode extends vscode.TreeItem {
  readonly kind = 'context';

  constructor(
    readonly context: string,
    server: string,
  ) {
    super(context, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `context:${context}`;
    this.contextValue = ContextValue.context;
    this.iconPath = new vscode.ThemeIcon('cloud');
    this.description = server;
    this.tooltip = `Kubernetes context ${context} (${server})`;
    this.accessibilityInformation = { label: `${context}, ${server}` };
  }
}
