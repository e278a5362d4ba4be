// A namespace of the context; its children are its Services.
import * as vscode from 'vscode';
import { ContextValue } from '../ids';

export class NamespaceNode extends vscode.TreeItem {
  readonly kind = 'namespace';

  constructor(
    readonly context: string,
    readonly namespace: string,
    expanded: boolean,
  ) {
    super(namespace, expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `ns:${context}/${namespace}`;
    this.contextValue = ContextValue.namespace;
    this.iconPath = new vscode.ThemeIcon('symbol-namespace');
  }
}
