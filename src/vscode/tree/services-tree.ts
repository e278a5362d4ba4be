// The "Kubernetes Services" view: context → namespaces → Services → ports. It reloads (debounced)
// when the cluster changes (a watch per shown namespace), when this window's intercepts change, and
// on the refresh button. When the kubeconfig is missing or the cluster cannot be reached, the view is
// empty, the welcome view explains, and the view's message carries the error itself.
import * as vscode from 'vscode';
import type { CoreFailure } from '../../core/errors';
import { CoreError } from '../../core/errors';
import { loadNamespaceView, type NamespaceView } from '../../core/cluster/namespace-view';
import { NamespaceWatch } from '../../core/cluster/resource-watch';
import { listNamespaces } from '../../core/kube/services';
import type { Intercepts } from '../../core/session/intercepts';
import type { ClusterConnection } from '../cluster-connection';
import { ContextKey, type ClusterState } from '../ids';
import { ContextNode } from './context-node';
import { MessageNode } from './message-node';
import { NamespaceNode } from './namespace-node';
import { PortNode } from './port-node';
import { ServiceNode } from './service-node';

export type ServicesTreeNode = ContextNode | NamespaceNode | ServiceNode | PortNode | MessageNode;

const REFRESH_DEBOUNCE_MS = 300;
/** Failures that mean the cluster as a whole cannot be used: the welcome view shows instead of a tree. */
const CLUSTER_FAILURES: ReadonlySet<CoreFailure['kind']> = new Set(['no-kubeconfig', 'bad-kubeconfig', 'unreachable', 'tls', 'unauthorized']);

export class ServicesTree implements vscode.TreeDataProvider<ServicesTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ServicesTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watches = new Map<string, NamespaceWatch>();
  private readonly views = new Map<string, NamespaceView>();
  private timer: NodeJS.Timeout | undefined;
  private forced = false;
  private view: vscode.TreeView<ServicesTreeNode> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly connection: ClusterConnection,
    private readonly intercepts: Intercepts,
    private readonly shownNamespaces: () => readonly string[],
    private readonly log: vscode.LogOutputChannel,
  ) {
    // This window's own intercepts change how their ports look even when the cluster does not.
    const onIntercepts = () => this.refreshSoon(true);
    intercepts.on('changed', onIntercepts);
    this.disposables.push(
      { dispose: () => intercepts.off('changed', onIntercepts) },
      connection.onDidChange(() => {
        void this.stopWatches();
        this.refresh();
      }),
    );
  }

  attach(view: vscode.TreeView<ServicesTreeNode>): void {
    this.view = view;
  }

  /** Reloads now. */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.views.clear();
    this.changed.fire(undefined);
  }

  /**
   * Reloads after a short quiet time, so a burst of changes costs one reload; and only redraws when
   * what the tree shows changed (a rollout's status updates change nothing here). A redraw while a
   * menu is open can lose the node its command was for.
   */
  refreshSoon(always = false): void {
    this.forced ||= always;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const forced = this.forced;
      this.forced = false;
      if (forced) this.refresh();
      else void this.reloadIfChanged();
    }, REFRESH_DEBOUNCE_MS);
  }

  private async reloadIfChanged(): Promise<void> {
    const shown = [...this.views.entries()];
    let fresh: NamespaceView[];
    try {
      const client = this.connection.client();
      const hashes = this.intercepts.leaseHashes();
      fresh = await Promise.all(shown.map(([ns]) => loadNamespaceView(client, ns, hashes)));
    } catch {
      this.refresh();
      return;
    }
    if (fresh.every((view, i) => JSON.stringify(view) === JSON.stringify(shown[i]![1]))) return;
    // What was just read is what the tree shows next: no second round of list calls.
    for (const view of fresh) this.views.set(view.namespace, view);
    this.changed.fire(undefined);
  }

  /** The Service or port node selected in the view (what a context-menu command was for). */
  selectedNode(): ServicesTreeNode | undefined {
    const node = this.view?.selection[0];
    return node && (node.kind === 'service' || node.kind === 'port') ? node : undefined;
  }

  getTreeItem(node: ServicesTreeNode): vscode.TreeItem {
    return node;
  }

  /** The views of the namespaces shown (for palette commands); namespaces the user may not read are skipped. */
  async namespaceViews(): Promise<NamespaceView[]> {
    const conn = this.connection.get();
    if (!conn.ok) throw new CoreError(conn.failure);
    const namespaces = await this.namespaces();
    const results = await Promise.allSettled(namespaces.map((ns) => this.namespaceView(ns)));
    const views = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (views.length === 0 && failed) throw failed.reason;
    return views;
  }

  private async namespaces(): Promise<string[]> {
    const chosen = this.shownNamespaces();
    if (chosen.length > 0) return [...chosen];
    return (await listNamespaces(this.connection.client())).names;
  }

  private async namespaceView(namespace: string): Promise<NamespaceView> {
    const cached = this.views.get(namespace);
    if (cached) return cached;
    const view = await loadNamespaceView(this.connection.client(), namespace, this.intercepts.leaseHashes());
    this.views.set(namespace, view);
    this.watch(namespace);
    return view;
  }

  private watch(namespace: string): void {
    if (this.watches.has(namespace)) return;
    const w = new NamespaceWatch(this.connection.client(), namespace);
    w.on('changed', () => this.refreshSoon());
    w.on('error', (err) => this.log.debug(`watching ${namespace}: ${err.message}`));
    w.start();
    this.watches.set(namespace, w);
  }

  /**
   * The welcome content says what to do for each kind of failure; the failure itself (the file, the
   * server) goes in the view's description, since a view message would hide the welcome content.
   */
  private setClusterState(state: ClusterState, failure?: CoreFailure): void {
    void vscode.commands.executeCommand('setContext', ContextKey.clusterState, state);
    if (this.view) this.view.description = failure?.message;
  }

  async getChildren(node?: ServicesTreeNode): Promise<ServicesTreeNode[]> {
    try {
      return await this.children(node);
    } catch (err) {
      if (!(err instanceof CoreError)) throw err;
      if (CLUSTER_FAILURES.has(err.failure.kind) && (!node || node.kind === 'context')) {
        this.setClusterState(err.failure.kind as ClusterState, err.failure);
        return [];
      }
      return [new MessageNode(err.failure.message, err.failure.hint, 'error')];
    }
  }

  private async children(node?: ServicesTreeNode): Promise<ServicesTreeNode[]> {
    if (!node) {
      const conn = this.connection.get();
      if (!conn.ok) throw new CoreError(conn.failure);
      // Reaching the cluster is checked here, so an unreachable one shows the welcome view. Namespaces
      // chosen in the settings are listed without asking the cluster: reading the first one asks it.
      const names = await this.namespaces();
      if (this.shownNamespaces().length > 0 && names[0]) {
        await this.namespaceView(names[0]).catch((err: unknown) => {
          if (err instanceof CoreError && CLUSTER_FAILURES.has(err.failure.kind)) throw err;
        });
      }
      this.setClusterState('ok');
      return [new ContextNode(conn.client.context, conn.client.server)];
    }
    switch (node.kind) {
      case 'context': {
        const client = this.connection.client();
        const names = await this.namespaces();
        if (names.length === 0) return [new MessageNode('No namespaces to show.', 'Choose namespaces, or check the kubeconfig context.')];
        return names.map((ns) => new NamespaceNode(node.context, ns, ns === client.defaultNamespace || names.length === 1));
      }
      case 'namespace': {
        const view = await this.namespaceView(node.namespace);
        const nodes: ServicesTreeNode[] = view.services.map(
          (s) => new ServiceNode(node.context, s, this.intercepts.list().filter((i) => i.namespace === s.namespace && i.service === s.name)),
        );
        if (view.claimsUnreadable) nodes.push(new MessageNode('Teammates\' claims cannot be shown.', view.claimsUnreadable, 'warning'));
        return nodes.length > 0 ? nodes : [new MessageNode(`No Services in ${node.namespace}.`)];
      }
      case 'service':
        return node.service.ports.map((p) => new PortNode(node.context, node.service, p, this.intercepts.find(node.service.namespace, node.service.name, p.port)));
      default:
        return [];
    }
  }

  private async stopWatches(): Promise<void> {
    const all = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(all.map((w) => w.stop()));
  }

  async shutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.stopWatches();
  }

  dispose(): void {
    clearTimeout(this.timer);
    void this.stopWatches();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
