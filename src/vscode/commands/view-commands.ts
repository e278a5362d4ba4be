// Commands of the Services view itself: refresh, switch the kubeconfig context, choose namespaces.
import * as vscode from 'vscode';
import { CoreError } from '../../core/errors';
import { listNamespaces } from '../../core/kube/services';
import type { ClusterConnection } from '../cluster-connection';
import { Setting } from '../ids';
import { readSettings, writeSetting } from '../settings';
import { showFailure } from '../show-failure';

export async function switchContextCommand(connection: ClusterConnection, log: vscode.LogOutputChannel): Promise<void> {
  const conn = connection.get();
  if (!conn.ok) {
    await showFailure(new CoreError(conn.failure), log, 'Switch context');
    return;
  }
  const pick = await vscode.window.showQuickPick(
    conn.contexts.map((c) => ({ label: c.name, description: `${c.cluster} · namespace ${c.namespace}`, picked: c.current, name: c.name })),
    { title: 'Kubernetes context for Intercept' },
  );
  if (!pick) return;
  await writeSetting(Setting.context, pick.name);
}

export async function chooseNamespacesCommand(connection: ClusterConnection, log: vscode.LogOutputChannel): Promise<void> {
  try {
    const client = connection.client();
    const { names, restricted } = await listNamespaces(client);
    const shown = new Set(readSettings().namespaces);
    const picks = await vscode.window.showQuickPick(
      names.map((n) => ({ label: n, picked: shown.has(n) })),
      {
        title: 'Namespaces to show (none chosen: all)',
        canPickMany: true,
        placeHolder: restricted ? 'You may not list namespaces: only the context\'s own is known. Type another name in settings (intercept.namespaces).' : undefined,
      },
    );
    if (!picks) return;
    await writeSetting(Setting.namespaces, picks.map((p) => p.label));
  } catch (err) {
    await showFailure(err, log, 'Choose namespaces');
  }
}
