// Which Service port a command acts on: the tree node it was invoked on, or, from the palette, a quick
// pick of the shown namespaces' Services and their ports.
import * as vscode from 'vscode';
import type { PortView, ServiceView } from '../../core/cluster/namespace-view';
import type { ServicesTree, ServicesTreeNode } from '../tree/services-tree';

export interface PortTarget {
  readonly service: ServiceView;
  readonly port: PortView;
}

function interceptable(s: ServiceView): PortView[] {
  return s.refusal ? [] : s.ports.filter((p) => !p.refusal);
}

async function pickPort(service: ServiceView, ports: readonly PortView[]): Promise<PortView | undefined> {
  if (ports.length === 1) return ports[0];
  const pick = await vscode.window.showQuickPick(
    ports.map((p) => ({ label: String(p.port), description: [p.name, p.protocol, p.targetPort !== undefined ? `→ ${String(p.targetPort)}` : ''].filter(Boolean).join(' '), port: p })),
    { title: `Which port of ${service.name}?` },
  );
  return pick?.port;
}

/** `filter` narrows the ports offered (e.g. only those this window intercepts). */
export async function pickTarget(tree: ServicesTree, given: ServicesTreeNode | undefined, filter: (s: ServiceView, p: PortView) => boolean = () => true): Promise<PortTarget | undefined> {
  // A menu command whose node the tree lost in a redraw gets none: the selection is that node.
  const node = given ?? tree.selectedNode();
  if (node?.kind === 'port') return { service: node.service, port: node.port };
  if (node?.kind === 'service') {
    const ports = interceptable(node.service).filter((p) => filter(node.service, p));
    if (ports.length === 0) {
      void vscode.window.showWarningMessage(node.service.refusal ? `${node.service.refusal.message} ${node.service.refusal.hint}` : `No port of ${node.service.name} fits.`);
      return undefined;
    }
    const port = await pickPort(node.service, ports);
    return port ? { service: node.service, port } : undefined;
  }
  const views = await tree.namespaceViews();
  const items = views.flatMap((v) =>
    v.services.flatMap((s) => interceptable(s).filter((p) => filter(s, p)).map((p) => ({ label: `${s.name}:${p.port}`, description: `${s.namespace}${p.name ? ` · ${p.name}` : ''}`, target: { service: s, port: p } }))),
  );
  if (items.length === 0) {
    void vscode.window.showInformationMessage('No Service port to choose from.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title: 'Which Service port?', matchOnDescription: true }))?.target;
}
