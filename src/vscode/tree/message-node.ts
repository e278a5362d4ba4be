// An error or an empty state in the Services tree: one line, with its hint as the tooltip.
import * as vscode from 'vscode';
import { ContextValue } from '../ids';

export class MessageNode extends vscode.TreeItem {
  readonly kind = 'message';

  constructor(message: string, hint?: string, icon: 'error' | 'info' | 'warning' = 'info') {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.contextValue = ContextValue.message;
    this.iconPath = new vscode.ThemeIcon(icon);
    if (hint) {
      this.tooltip = `${message}\n\n${hint}`;
      this.description = hint;
    }
  }
}
