// A Service of a namespace; its children are its ports.
import * as vscode from 'vscode';
import type { ServiceView } from '../../core/cluster/namespace-view';
import type { Intercept } from '../../core/session/intercepts';
import { ContextValue } from '../ids';
import { lookIcon, portLook, strongest } from './port-state';

export class ServiceNode extends vscode.TreeItem {
  readonly kind = 'service';

  constructor(
    readonly context: string,
    readonly service: ServiceView,
    readonly mine: readonly Intercept[],
  ) {
    super(service.name, vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `svc:${context}/${service.namespace}/${service.name}`;
    const looks = service.ports.map((p) => portLook(p.state, mine.find((i) => i.port === p.port)));
    const look = strongest(looks.map((l) => l.look));
    if (service.refusal) {
      this.contextValue = ContextValue.serviceRefused;
      this.iconPath = new vscode.ThemeIcon('circle-slash');
      this.description = service.refusal.message;
      this.tooltip = `${service.refusal.message}\n${service.refusal.hint}`;
      this.accessibilityInformation = { label: `${service.name}, cannot be intercepted: ${service.refusal.message}` };
      return;
    }
    this.contextValue = look === 'mine' ? ContextValue.serviceIntercepted : look === 'plain' ? ContextValue.service : ContextValue.serviceProxied;
    this.iconPath = lookIcon(look) ?? new vscode.ThemeIcon('server-process');
    const who = looks.filter((l) => l.look !== 'plain').map((l) => l.description);
    this.description = [service.workload ?? '', ...new Set(who)].filter(Boolean).join(' · ');
    this.tooltip = [`Service ${service.namespace}/${service.name} (${service.type})`, service.workload ? `Workload: ${service.workload}` : '', ...looks.map((l) => l.tooltip)]
      .filter(Boolean)
      .join('\n');
    // Screen readers (and the editor tests) read the name first, then the state.
    this.accessibilityInformation = { label: [service.name, this.description].filter(Boolean).join(', ') };
  }
}
