// One port of a Service: "Intercept to this workspace" acts on it directly.
import * as vscode from 'vscode';
import type { PortView, ServiceView } from '../../core/cluster/namespace-view';
import type { Intercept } from '../../core/session/intercepts';
import { ContextValue } from '../ids';
import { lookIcon, portLook } from './port-state';

export class PortNode extends vscode.TreeItem {
  readonly kind = 'port';

  constructor(
    readonly context: string,
    readonly service: ServiceView,
    readonly port: PortView,
    readonly mine: Intercept | undefined,
  ) {
    const label = port.name ? `${port.name} ${port.port}` : String(port.port);
    super(label, vscode.TreeItemCollapsibleState.None);
    this.id = `port:${context}/${service.namespace}/${service.name}:${port.port}/${port.protocol}`;
    const look = portLook(port.state, mine);
    const target = port.targetPort !== undefined ? ` → ${String(port.targetPort)}` : '';
    if (port.refusal) {
      this.contextValue = ContextValue.portRefused;
      this.iconPath = new vscode.ThemeIcon('circle-slash');
      this.description = `${port.protocol} — ${port.refusal.message}`;
      this.tooltip = `${port.refusal.message}\n${port.refusal.hint}`;
      this.accessibilityInformation = { label: `port ${label}, cannot be intercepted: ${port.refusal.message}` };
      return;
    }
    this.contextValue = look.look === 'mine' ? ContextValue.portIntercepted : look.look === 'plain' ? ContextValue.port : ContextValue.portProxied;
    this.iconPath = lookIcon(look.look) ?? new vscode.ThemeIcon('plug');
    this.description = [`${port.protocol}${target}`, look.description].filter(Boolean).join(' · ');
    this.tooltip = [`Port ${port.port}/${port.protocol}${target}`, look.tooltip].filter(Boolean).join('\n');
    this.accessibilityInformation = { label: `port ${label}, ${String(this.description)}` };
  }
}
