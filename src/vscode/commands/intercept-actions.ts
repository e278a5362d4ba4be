// Commands on an intercept this window holds: stop, copy its header or a curl command, the status
// bar's menu, and removing the proxy from a workload.
import * as vscode from 'vscode';
import { removeProxy } from '../../core/session/remove-proxy';
import { Injector } from '../../core/session/injector';
import { CoreError } from '../../core/errors';
import { Intercept, type Intercepts } from '../../core/session/intercepts';
import type { SidecarBuild } from '../../core/session/sidecar-build';
import { curlCommand, headerLine } from '../curl';
import { CommandId } from '../ids';
import { withCancellableProgress } from '../progress';
import { showFailure } from '../show-failure';
import type { InterceptStatusBar } from '../status-bar';
import type { ServicesTree, ServicesTreeNode } from '../tree/services-tree';
import type { ClusterConnection } from '../cluster-connection';
import { pickTarget } from './pick-target';

export interface ActionDeps {
  readonly intercepts: Intercepts;
  readonly tree: ServicesTree;
  readonly statusBar: InterceptStatusBar;
  readonly connection: ClusterConnection;
  readonly build: () => Promise<SidecarBuild>;
  readonly log: vscode.LogOutputChannel;
}

/** The intercept a command means: the node's, else the only one, else a pick among this window's. */
export async function interceptFor(deps: ActionDeps, node: ServicesTreeNode | Intercept | undefined): Promise<Intercept | undefined> {
  const { intercepts } = deps;
  if (node instanceof Intercept) return node;
  if (node?.kind === 'port') return intercepts.find(node.service.namespace, node.service.name, node.port.port);
  if (node?.kind === 'service') {
    const mine = intercepts.list().filter((i) => i.namespace === node.service.namespace && i.service === node.service.name);
    if (mine.length <= 1) return mine[0];
    return (await vscode.window.showQuickPick(mine.map((i) => ({ label: `${i.service}:${i.port}`, description: headerLine(i), i })), { title: 'Which intercept?' }))?.i;
  }
  const all = intercepts.list();
  if (all.length === 0) {
    void vscode.window.showInformationMessage('This window intercepts nothing.');
    return undefined;
  }
  if (all.length === 1) return all[0];
  return (await vscode.window.showQuickPick(all.map((i) => ({ label: `${i.service}:${i.port}`, description: `${i.namespace} · ${headerLine(i)}`, i })), { title: 'Which intercept?' }))?.i;
}

export async function stopCommand(deps: ActionDeps, node?: ServicesTreeNode | Intercept): Promise<void> {
  const i = await interceptFor(deps, node);
  if (!i) return;
  try {
    await deps.intercepts.stop(i.id);
    deps.log.info(`Stopped ${i.id}: "${headerLine(i)}" released`);
    void vscode.window.setStatusBarMessage(`Intercept of ${i.service}:${i.port} stopped`, 5000);
  } catch (err) {
    await showFailure(err, deps.log, 'Stop');
  }
}

export async function copyHeaderCommand(deps: ActionDeps, node?: ServicesTreeNode | Intercept): Promise<void> {
  const i = await interceptFor(deps, node);
  if (!i) return;
  await vscode.env.clipboard.writeText(headerLine(i));
  void vscode.window.setStatusBarMessage(`Copied "${headerLine(i)}"`, 3000);
}

export async function copyCurlCommand(deps: ActionDeps, node?: ServicesTreeNode | Intercept): Promise<void> {
  const i = await interceptFor(deps, node);
  if (!i) return;
  await vscode.env.clipboard.writeText(curlCommand(i));
  void vscode.window.setStatusBarMessage('Copied the curl command', 3000);
}

export async function statusBarMenuCommand(deps: ActionDeps): Promise<void> {
  const i = deps.statusBar.shown();
  if (!i) return;
  const items: (vscode.QuickPickItem & { run: () => Thenable<unknown> })[] = [
    { label: '$(copy) Copy Header', description: headerLine(i), run: () => copyHeaderCommand(deps, i) },
    { label: '$(terminal) Copy curl Command', description: curlCommand(i), run: () => copyCurlCommand(deps, i) },
    { label: '$(list-flat) Show Request Log', run: () => vscode.commands.executeCommand(CommandId.showRequestLog) },
    { label: '$(debug-stop) Stop Intercept', description: `${i.service}:${i.port}`, run: () => stopCommand(deps, i) },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: `Intercept ${i.namespace}/${i.service}:${i.port} (${i.status})` });
  if (pick) await pick.run();
}

export async function removeProxyCommand(deps: ActionDeps, node?: ServicesTreeNode): Promise<void> {
  try {
    const target = await pickTarget(deps.tree, node, (_s, p) => p.state.kind === 'proxy');
    if (!target) return;
    const { service } = target;
    const mineThere = deps.intercepts.list().filter((i) => i.namespace === service.namespace && i.service === service.name);
    const client = deps.connection.client();
    const injector = new Injector({ client, build: await deps.build() });
    const ref = { namespace: service.namespace, service: service.name };
    let force = false;
    const run = () =>
      withCancellableProgress(`Removing the Intercept proxy from ${service.workload ?? service.name}`, async (report, signal) => {
        for (const i of mineThere) await deps.intercepts.stop(i.id);
        report('Restoring the Service, then the workload');
        return removeProxy(client, injector, ref, { force, signal });
      });
    let result;
    try {
      result = await run();
    } catch (err) {
      if (!(err instanceof CoreError && err.failure.kind === 'claims-held')) throw err;
      const holders = err.failure.holders.join(', ');
      const go = await vscode.window.showWarningMessage(
        `Claims on ${service.workload ?? service.name} are held by ${holders}.`,
        { modal: true, detail: 'Removing the proxy anyway ends their intercepts; their requests go to the app again.' },
        'Remove Anyway',
      );
      if (go !== 'Remove Anyway') return;
      force = true;
      result = await run();
    }
    const ended = result.endedClaimsOf.length > 0 ? ` The intercepts of ${result.endedClaimsOf.join(', ')} ended.` : '';
    void vscode.window.showInformationMessage(`The Intercept proxy is removed from ${result.workload.kind} ${result.workload.name}; it and the Service are as they were.${ended}`);
    deps.tree.refresh();
  } catch (err) {
    await showFailure(err, deps.log, 'Remove proxy');
  }
}
