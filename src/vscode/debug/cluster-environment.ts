// "Debug with the cluster's environment": when a debug session starts for the launch configuration an
// intercept is tied to, its `env` gets the environment the workload's container has in the pod (the
// launch configuration's own entries win, and are named in the log). Secrets are read only when the
// user agreed, once per workload; values never go to the log (only names and where they came from).
import * as vscode from 'vscode';
import { appContainerName, kubePodEnvApi, loadPodEnvironment, readsSecrets, type PodEnvironment } from '../../core/env/load-env';
import { debugEnvironment } from '../../core/env/debug-env';
import type { Intercept } from '../../core/session/intercepts';
import type { InterceptOutbounds } from '../../core/outbound/intercept-outbounds';
import type { ClusterConnection } from '../cluster-connection';
import type { DebugLink } from './debug-link';
import { withOutboundCalls } from './outbound-for-session';
import { readSettings } from '../settings';

const SECRETS_KEY = 'intercept.includeSecrets:';

/** Asks once per workload whether its Secrets may be read into this machine's memory; remembered. */
export async function secretsChoice(state: vscode.Memento, i: Intercept): Promise<boolean> {
  const w = i.injection.workload;
  const key = `${SECRETS_KEY}${i.context}/${w.namespace}/${w.kind}/${w.name}`;
  const known = state.get<boolean>(key);
  if (known !== undefined) return known;
  const pick = await vscode.window.showWarningMessage(
    `Include the Secrets of ${w.kind} ${w.name} in the cluster environment?`,
    { modal: true, detail: 'Their values are read into the debug session\'s environment only: never written to disk or to the log. Without them, the variables that come from Secrets are left out and named in the log.' },
    'Include Secrets',
    'Leave Them Out',
  );
  if (pick === undefined) return false;
  const include = pick === 'Include Secrets';
  await state.update(key, include);
  return include;
}

export async function loadEnvironmentOf(connection: ClusterConnection, i: Intercept, includeSecrets: boolean): Promise<PodEnvironment> {
  const w = i.injection.workload;
  const container = appContainerName(w, i.injection.appPort);
  if (!container) throw new Error(`${w.kind} ${w.name} has several containers and none declares port ${i.injection.appPort}.`);
  return loadPodEnvironment(kubePodEnvApi(connection.client()), w, container, { includeSecrets });
}

export function logEnvironment(log: vscode.LogOutputChannel, what: string, env: PodEnvironment): void {
  const fromSecrets = env.variables.filter((v) => v.secret).length;
  log.info(`${what}: ${env.variables.length} variables of container ${env.container}${env.pod ? ` (pod ${env.pod})` : ''}, ${fromSecrets} from Secrets`);
  for (const v of env.variables) log.debug(`  ${v.name} from ${v.source}`);
  for (const n of env.notes) log.warn(`  ${n.message}`);
}

export class ClusterEnvironmentProvider implements vscode.DebugConfigurationProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly link: DebugLink,
    private readonly connection: ClusterConnection,
    private readonly outbounds: InterceptOutbounds,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.registration = vscode.debug.registerDebugConfigurationProvider('*', this);
  }

  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration> {
    // Only a program being launched takes an environment (not an attach, nor a debugger's child session).
    if (!readSettings().debugWithClusterEnvironment || config.request !== 'launch' || '__pendingTargetId' in config) return config;
    const i = this.link.interceptFor(config.name, folder);
    if (!i) return config;
    try {
      // Asked only of a workload whose container reads Secrets.
      const container = appContainerName(i.injection.workload, i.injection.appPort);
      const include = container !== undefined && readsSecrets(i.injection.workload, container) ? await secretsChoice(this.state, i) : false;
      const env = await loadEnvironmentOf(this.connection, i, include);
      logEnvironment(this.log, `Cluster environment for "${config.name}"`, env);
      const leftOut = env.notes.filter((n) => n.kind === 'left-out');
      if (leftOut.length > 0) {
        const more = leftOut.length > 1 ? ` And ${leftOut.length - 1} more: see the log.` : '';
        void vscode.window.showWarningMessage(`Intercept: "${config.name}" starts without some of the pod's variables. ${leftOut[0]!.message}.${more}`);
      }
      const variables = await withOutboundCalls({ outbounds: this.outbounds, connection: this.connection, log: this.log }, i, env.variables, config.name);
      const merged = debugEnvironment(variables, (config.env ?? {}) as Record<string, string | null>);
      if (merged.userWins.length > 0) this.log.info(`  kept from the launch configuration: ${merged.userWins.join(', ')}`);
      return { ...config, env: merged.env };
    } catch (err) {
      this.log.warn(`The cluster environment for "${config.name}" could not be read: ${(err as Error).message}`);
      void vscode.window.showWarningMessage(`Intercept: the cluster environment could not be read (${(err as Error).message}); the session starts with its own.`);
      return config;
    }
  }

  dispose(): void {
    this.registration.dispose();
  }
}
