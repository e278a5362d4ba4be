// How a port's (or a Service's) intercept state looks in the tree: the icon, a short description and
// the tooltip line, from the cluster's view and this window's own intercepts.
import * as vscode from 'vscode';
import type { PortState } from '../../core/cluster/intercept-states';
import type { Intercept } from '../../core/session/intercepts';

export type Look = 'mine' | 'teammate' | 'idle-proxy' | 'plain';

export interface PortLook {
  readonly look: Look;
  readonly description: string;
  readonly tooltip: string;
}

export function portLook(state: PortState, mine: Intercept | undefined): PortLook {
  const others = state.kind === 'proxy' ? state.claims.filter((c) => !c.mine) : [];
  const teammates = others.map((c) => `Intercepted by ${c.developer} ("${c.header}: ${c.value}")`);
  if (mine) {
    const paused = mine.status === 'paused' ? ' (paused)' : '';
    return {
      look: 'mine',
      description: [`yours${paused}`, ...others.map((c) => c.developer)].join(' · '),
      tooltip: [`Intercepted by you${paused}: requests with "${mine.claim.header}: ${mine.claim.value}" go to 127.0.0.1:${mine.localPort}.`, ...teammates].join('\n'),
    };
  }
  if (others.length > 0) return { look: 'teammate', description: others.map((c) => c.developer).join(' · '), tooltip: teammates.join('\n') };
  if (state.kind === 'proxy') {
    return { look: 'idle-proxy', description: 'proxy idle', tooltip: `The Intercept proxy is in place (port ${state.listenPort}); nobody intercepts it now.` };
  }
  return { look: 'plain', description: '', tooltip: '' };
}

export function lookIcon(look: Look): vscode.ThemeIcon | undefined {
  switch (look) {
    case 'mine':
      return new vscode.ThemeIcon('debug-alt', new vscode.ThemeColor('charts.green'));
    case 'teammate':
      return new vscode.ThemeIcon('person', new vscode.ThemeColor('charts.blue'));
    case 'idle-proxy':
      return new vscode.ThemeIcon('debug-disconnect');
    case 'plain':
      return undefined;
  }
}

/** The strongest look among a Service's ports. */
export function strongest(looks: readonly Look[]): Look {
  for (const l of ['mine', 'teammate', 'idle-proxy'] as const) if (looks.includes(l)) return l;
  return 'plain';
}
