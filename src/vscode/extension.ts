import path from 'node:path';
import * as vscode from 'vscode';
import { CoreError, type Result } from '../core/errors';
import { contextsOf, loadKubeConfig, type ContextInfo } from '../core/kube/kube-config';
import { InterceptOutbounds } from '../core/outbound/intercept-outbounds';
import { developerName } from '../core/session/developer';
import { Intercepts } from '../core/session/intercepts';
import { loadSidecarBuild, type SidecarBuild } from '../core/session/sidecar-build';
import { VERSION } from '../core/version';
import { ClusterConnection } from './cluster-connection';
import { copyCurlCommand, copyHeaderCommand, removeProxyCommand, statusBarMenuCommand, stopCommand } from './commands/intercept-actions';
import { interceptCommand } from './commands/intercept-command';
import { writeEnvFileCommand } from './commands/env-file-command';
import { chooseNamespacesCommand, switchContextCommand } from './commands/view-commands';
import { curlCommand } from './curl';
import { ClusterEnvironmentProvider } from './debug/cluster-environment';
import { DebugLink } from './debug/debug-link';
import { DebugSessions } from './debug/debug-sessions';
import { CommandId, OUTPUT_CHANNEL_NAME, Setting, ViewId } from './ids';
import type { RequestNode } from './requests/request-node';
import { ServiceForwards } from './outbound/service-forwards';
import { RequestLog } from './requests/request-log';
import { affectsSettings, readSettings } from './settings';
import { InterceptStatusBar } from './status-bar';
import { ServicesTree } from './tree/services-tree';

/** What the extension offers other extensions (and its tests): the core, without the UI. */
export interface InterceptApi {
  /** The kubeconfig's contexts as kubectl reads them; `kubeconfigEnv` stands for KUBECONFIG. */
  kubeContexts(kubeconfigEnv?: string): Result<ContextInfo[]>;
  /** This window's intercepts: id, header and state. */
  intercepts(): { id: string; header: string; value: string; localPort: number; status: string }[];
}

let shutdown: (() => Promise<void>) | undefined;

// activate only composes: it creates the parts and hands every disposable to the context.
export function activate(context: vscode.ExtensionContext): InterceptApi {
  const activating = performance.now();
  const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  let build: Promise<SidecarBuild> | undefined;
  const sidecarBuild = () => (build ??= loadSidecarBuild(path.join(context.extensionPath, 'proxy-image', 'dist', 'intercept-proxy.js'), VERSION));
  const connection = new ClusterConnection(() => readSettings().context);
  const intercepts = new Intercepts({
    client: () => connection.client(),
    build: sidecarBuild,
    developer: developerName(),
    image: () => readSettings().proxyImage || undefined,
    graceSeconds: () => readSettings().gracePeriodSeconds,
    outbound: () => readSettings().outboundCalls,
  });
  const failedCallsShown = new Set<string>();
  const outbounds = new InterceptOutbounds({
    intercepts,
    client: () => connection.client(),
    propagateHeader: () => readSettings().propagateHeader,
    onError: (i, destination, err) => {
      log.warn(`${i.id}: a call out to ${destination} failed: ${err.message}`);
      // Said once per destination and intercept; every failure is in the log.
      if (failedCallsShown.has(`${i.id} ${destination}`)) return;
      failedCallsShown.add(`${i.id} ${destination}`);
      void vscode.window.showWarningMessage(`Intercept: a call out to ${destination} through the pod failed: ${err.message}`);
    },
  });
  const tree = new ServicesTree(connection, intercepts, () => readSettings().namespaces, log);
  const servicesView = vscode.window.createTreeView(ViewId.services, { treeDataProvider: tree, showCollapseAll: true });
  tree.attach(servicesView);
  const requestLog = new RequestLog(intercepts, log);
  const requestsView = vscode.window.createTreeView(ViewId.requests, { treeDataProvider: requestLog });
  const statusBar = new InterceptStatusBar(intercepts);
  const sessions = new DebugSessions();
  const debugLink = new DebugLink(intercepts, log);
  const serviceForwards = new ServiceForwards(intercepts, outbounds, log);
  const clusterEnvironment = new ClusterEnvironmentProvider(debugLink, connection, outbounds, context.workspaceState, log);
  const actions = { intercepts, tree, statusBar, connection, build: sidecarBuild, log };
  const interceptDeps = {
    intercepts,
    tree,
    sessions,
    debugLink,
    workspaceState: context.workspaceState,
    globalState: context.globalState,
    log,
    context: () => (connection.get().ok ? connection.client().context : ''),
  };

  intercepts.on('localError', (i, code, address, pod) =>
    log.warn(`${i.service}:${i.port}: a request from pod ${pod} found nothing at ${address} (${code}); is your program listening on port ${i.localPort}?`),
  );
  intercepts.on('warning', (i, message) => log.warn(`${i.id}: ${message}`));
  intercepts.on('pod', (i, pod, state, detail) => log.info(`${i.id}: pod ${pod} ${state}${detail ? ` (${detail})` : ''}`));
  intercepts.on('ended', (i, error) => {
    log.warn(`${i.id} ended: ${error.message}`);
    void vscode.window.showWarningMessage(`The intercept of ${i.service}:${i.port} ended: ${error.message} ${error.failure.hint}`);
  });

  const command = (id: CommandId, fn: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, fn);
  context.subscriptions.push(
    log,
    connection,
    tree,
    servicesView,
    requestLog,
    requestsView,
    statusBar,
    sessions,
    debugLink,
    clusterEnvironment,
    outbounds,
    serviceForwards,
    command(CommandId.showLog, () => log.show()),
    command(CommandId.refresh, () => {
      connection.reload();
    }),
    command(CommandId.switchContext, () => switchContextCommand(connection, log)),
    command(CommandId.chooseNamespaces, () => chooseNamespacesCommand(connection, log)),
    command(CommandId.intercept, (node) => interceptCommand(interceptDeps, node)),
    command(CommandId.stop, (node) => stopCommand(actions, node)),
    command(CommandId.copyHeader, (node) => copyHeaderCommand(actions, node)),
    command(CommandId.copyCurl, (node) => copyCurlCommand(actions, node)),
    command(CommandId.removeProxy, (node) => removeProxyCommand(actions, node)),
    command(CommandId.statusBarMenu, () => statusBarMenuCommand(actions)),
    command(CommandId.showRequestLog, async () => {
      await vscode.commands.executeCommand(`${ViewId.requests}.focus`);
      log.show(true);
    }),
    command(CommandId.copyRequestAsCurl, async (node: RequestNode) => {
      if (node) await vscode.env.clipboard.writeText(curlCommand(node.intercept, node.request.method, node.request.path));
    }),
    command(CommandId.clearRequestLog, () => requestLog.clear()),
    command(CommandId.writeEnvFile, (node) => writeEnvFileCommand({ ...actions, debugLink }, node)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsSettings(e, Setting.context)) connection.reload();
      else if (affectsSettings(e, Setting.namespaces)) tree.refresh();
    }),
  );
  // deactivate releases every claim before the window closes.
  shutdown = async () => {
    await intercepts.stopAll();
    await outbounds.closeAll();
    await tree.shutdown();
  };
  log.info(`Intercept activated (version ${VERSION}) in ${Math.round(performance.now() - activating)} ms`);
  return {
    kubeContexts(kubeconfigEnv = process.env.KUBECONFIG) {
      try {
        return { ok: true, value: contextsOf(loadKubeConfig({ kubeconfigEnv })) };
      } catch (err) {
        if (err instanceof CoreError) return { ok: false, failure: err.failure };
        throw err;
      }
    },
    intercepts: () => intercepts.list().map((i) => ({ id: i.id, header: i.claim.header, value: i.claim.value, localPort: i.localPort, status: i.status })),
  };
}

export async function deactivate(): Promise<void> {
  await shutdown?.();
  shutdown = undefined;
}
