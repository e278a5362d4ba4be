// What a user sees when something fails: the core's typed failure, its message and what to do, with
// a way to the log. Anything untyped is a defect of ours and says so.
import * as vscode from 'vscode';
import { CoreError } from '../core/errors';
import { CommandId } from './ids';

export async function showFailure(err: unknown, log: vscode.LogOutputChannel, doing: string): Promise<void> {
  if (err instanceof CoreError) {
    log.warn(`${doing}: ${err.failure.kind}: ${err.message} (${err.failure.hint})`);
    if (err.failure.kind === 'cancelled') {
      void vscode.window.showInformationMessage(`${err.message} ${err.failure.hint}`);
      return;
    }
    const pick = await vscode.window.showErrorMessage(`${doing} failed: ${err.message} ${err.failure.hint}`, 'Show Log');
    if (pick) await vscode.commands.executeCommand(CommandId.showLog);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  log.error(`${doing}: ${err instanceof Error ? (err.stack ?? message) : message}`);
  const pick = await vscode.window.showErrorMessage(`${doing} failed unexpectedly: ${message}`, 'Show Log');
  if (pick) await vscode.commands.executeCommand(CommandId.showLog);
}
