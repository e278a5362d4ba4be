// "Write Cluster Environment to .env": the intercepted workload's environment as a dotenv file the
// user saves where they like, Secrets left out unless chosen.
import * as vscode from 'vscode';
import { formatDotenv } from '../../core/env/dotenv-writer';
import type { Intercept } from '../../core/session/intercepts';
import type { ClusterConnection } from '../cluster-connection';
import type { DebugLink } from '../debug/debug-link';
import { loadEnvironmentOf, logEnvironment } from '../debug/cluster-environment';
import { withCancellableProgress } from '../progress';
import { showFailure } from '../show-failure';
import type { ServicesTreeNode } from '../tree/services-tree';
import { interceptFor, type ActionDeps } from './intercept-actions';

export async function writeEnvFileCommand(deps: ActionDeps & { connection: ClusterConnection; debugLink: DebugLink }, node?: ServicesTreeNode | Intercept): Promise<void> {
  try {
    const i = await interceptFor(deps, node);
    if (!i) return;
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Without Secrets', description: 'variables from Secrets are left out and named in the file', include: false },
        { label: 'With Secrets', description: 'their values are written to the file in clear text', include: true },
      ],
      { title: `Environment of ${i.service} to a .env file` },
    );
    if (!choice) return;
    // The folder of the program the intercept serves (several in a multi-root workspace), else the first.
    const folder = deps.debugLink.folderOf(i) ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({ title: 'Save the cluster environment', ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, '.env') } : {}), filters: { dotenv: ['env'] } });
    if (!target) return;
    const env = await withCancellableProgress(`Reading the environment of ${i.service}`, () => loadEnvironmentOf(deps.connection, i, choice.include));
    const w = i.injection.workload;
    const text = formatDotenv(
      env.variables,
      env.notes,
      { workload: `${w.kind} ${w.name}`, namespace: w.namespace, container: env.container, context: i.context, ...(env.pod ? { pod: env.pod } : {}), writtenAt: new Date() },
      choice.include,
    );
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
    logEnvironment(deps.log, `Environment written to ${target.fsPath}`, env);
    void vscode.window.showInformationMessage(`Wrote ${env.variables.filter((v) => choice.include || !v.secret).length} variables to ${vscode.workspace.asRelativePath(target)}.`);
  } catch (err) {
    await showFailure(err, deps.log, 'Write the cluster environment');
  }
}
