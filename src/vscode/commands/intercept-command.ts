// "Intercept to this workspace": the Service port from the tree or a pick, the local port found by
// itself (asked only when ambiguous), a confirmation before the first injection into a workload, then
// the injection and the tunnels under a cancellable progress notification.
import * as vscode from 'vscode';
import { CoreError } from '../../core/errors';
import { checkClaim } from '../../protocol/claim';
import type { Intercepts } from '../../core/session/intercepts';
import type { DebugSessions } from '../debug/debug-sessions';
import type { DebugLink } from '../debug/debug-link';
import { headerLine } from '../curl';
import { defaultHeaderValue } from '../identity';
import { localPortCandidates } from '../local-port/candidates';
import { chooseLocalPort } from '../local-port/choose-local-port';
import { injectEventText, withCancellableProgress } from '../progress';
import { readSettings } from '../settings';
import { showFailure } from '../show-failure';
import type { ServicesTree, ServicesTreeNode } from '../tree/services-tree';
import { pickTarget } from './pick-target';

export interface InterceptCommandDeps {
  readonly intercepts: Intercepts;
  readonly tree: ServicesTree;
  readonly sessions: DebugSessions;
  readonly debugLink: DebugLink;
  readonly workspaceState: vscode.Memento;
  readonly globalState: vscode.Memento;
  readonly log: vscode.LogOutputChannel;
  readonly context: () => string;
}

export async function interceptCommand(deps: InterceptCommandDeps, node?: ServicesTreeNode): Promise<void> {
  const { intercepts, log } = deps;
  try {
    const target = await pickTarget(deps.tree, node);
    if (!target) return;
    const { service, port } = target;
    const settings = readSettings();
    const claim = { header: settings.headerName, value: settings.headerValue || defaultHeaderValue(deps.globalState) };
    const problem = checkClaim(claim.header, claim.value);
    if (problem) {
      void vscode.window.showErrorMessage(`The header setting is not usable: the ${problem.field} ${problem.reason}. Change intercept.headerName or intercept.headerValue.`);
      return;
    }

    const candidates = await localPortCandidates(deps.sessions);
    const serviceId = `${deps.context()}/${service.namespace}/${service.name}:${port.port}`;
    const local = await chooseLocalPort(candidates, serviceId, deps.workspaceState);
    if (!local) return;
    log.info(`Intercepting ${serviceId} to 127.0.0.1:${local.port} (port from ${local.source})`);

    const targetRef = { namespace: service.namespace, service: service.name, port: port.port };
    const preview = await intercepts.preview(targetRef);
    let acceptGitOps = false;
    if (preview.changesWorkload || preview.gitOps) {
      const lines = [
        preview.changesWorkload
          ? `Intercept adds its proxy container to ${preview.workload} (${preview.replicas} pod${preview.replicas === 1 ? '' : 's'} restart, one by one, with no failed request) and then moves port ${preview.servicePort} of Service ${service.name} to it. Everyone else's requests keep reaching the app; "Remove Intercept Proxy from Workload" restores both exactly.`
          : '',
        preview.changesWorkload && readSettings().outboundCalls
          ? 'The proxy also lets developers who hold a claim call out from the pod (intercept.outboundCalls), each destination logged by the proxy.'
          : '',
        preview.gitOps ? `${preview.workload} is managed by ${preview.gitOps}, which may revert the change at its next sync.` : '',
      ].filter(Boolean);
      const go = await vscode.window.showWarningMessage(`Intercept ${service.name}:${port.port}?`, { modal: true, detail: lines.join('\n\n') }, 'Intercept');
      if (go !== 'Intercept') return;
      acceptGitOps = preview.gitOps !== undefined;
    }

    const intercept = await withCancellableProgress(`Intercepting ${service.name}:${port.port}`, (report, signal) =>
      intercepts.start(targetRef, { claim, localPort: local.port, acceptGitOps, signal, onProgress: (e) => report(injectEventText(e)) }),
    );
    deps.debugLink.link(intercept, local.candidate);
    log.info(`Intercepting ${intercept.id}: "${headerLine(intercept)}" → 127.0.0.1:${intercept.localPort}`);
    const running = deps.sessions.running().length > 0;
    if (!running && local.candidate?.launch && local.candidate.folder) {
      const start = await vscode.window.showInformationMessage(
        `Intercepting ${service.name}:${port.port} with "${headerLine(intercept)}". No debug session runs: start "${local.candidate.launch}"?`,
        'Start Debugging',
      );
      if (start) await vscode.debug.startDebugging(local.candidate.folder, local.candidate.launch);
    }
  } catch (err) {
    if (err instanceof CoreError && err.failure.kind === 'claim-held') {
      void vscode.window.showErrorMessage(`${err.message} ${err.failure.hint}`);
      log.warn(`intercept refused: ${err.message}`);
      return;
    }
    await showFailure(err, log, 'Intercept');
  }
}
