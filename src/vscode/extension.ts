import * as vscode from 'vscode';
import { CommandId, OUTPUT_CHANNEL_NAME } from './ids';

// activate only composes: it creates the parts and hands every disposable to the context.
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand(CommandId.showLog, () => output.show()),
  );
  output.info('Intercept activated');
}

export async function deactivate(): Promise<void> {
  // Tunnels will be shut down here once sessions exist; nothing is pending yet.
}
