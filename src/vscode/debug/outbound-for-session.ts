// Outbound calls for a debug session with the cluster's environment: when the intercept's proxy allows
// them, the Service addresses in the environment point at local forwards into the pod's network and
// HTTP_PROXY names the outbound proxy. The user is told which variables changed (names and addresses
// only, never values).
import * as vscode from 'vscode';
import type { EnvVariable } from '../../core/env/types';
import { listServices } from '../../core/kube/services';
import type { InterceptOutbounds } from '../../core/outbound/intercept-outbounds';
import { outboundEnvironment } from '../../core/outbound/outbound-environment';
import type { Intercept } from '../../core/session/intercepts';
import type { ClusterConnection } from '../cluster-connection';

export async function withOutboundCalls(
  deps: { outbounds: InterceptOutbounds; connection: ClusterConnection; log: vscode.LogOutputChannel },
  i: Intercept,
  variables: readonly EnvVariable[],
  sessionName: string,
): Promise<readonly EnvVariable[]> {
  const { log } = deps;
  if (!i.injection.record.outbound) {
    log.info(`Calls out from "${sessionName}" go from this machine: the proxy of ${i.injection.workload.kind} ${i.injection.workload.name} was added without outbound calls (remove the proxy and intercept again to add it with them).`);
    return variables;
  }
  const outbound = deps.outbounds.of(i);
  try {
    await outbound.start();
  } catch (err) {
    log.warn(`Calls out through the pod are unavailable for "${sessionName}": ${(err as Error).message}`);
    void vscode.window.showWarningMessage(`Intercept: calls out through the pod are unavailable (${(err as Error).message}); the session calls out from this machine.`);
    return variables;
  }
  const client = deps.connection.client();
  const env = await outboundEnvironment(variables, i.namespace, {
    proxyPort: outbound.proxyPort,
    forward: (host, port) => outbound.forward(host, port),
    servicePorts: async (namespace) => {
      try {
        return new Map((await listServices(client, namespace)).map((s) => [s.name, s.ports.filter((p) => p.protocol === 'TCP').map((p) => p.port)]));
      } catch {
        return undefined; // a namespace the user may not read: its addresses stay as they are
      }
    },
  });
  for (const f of env.forwards) log.info(`  ${f.destination} from the pod on 127.0.0.1:${f.localPort}`);
  for (const c of env.changes) log.info(`  ${c.variable}: ${c.replaced.map((r) => `${r.from} → ${r.to}`).join(', ')}`);
  log.info(
    env.podProxyKept
      ? `  the pod names a proxy of its own (HTTP_PROXY or HTTPS_PROXY): kept; Intercept's proxy is on 127.0.0.1:${outbound.proxyPort}`
      : `  other HTTP(S) calls: HTTP_PROXY and HTTPS_PROXY name 127.0.0.1:${outbound.proxyPort}, which calls out from the pod`,
  );
  if (env.changes.length > 0) {
    void vscode.window.showInformationMessage(
      `Intercept: ${env.changes.map((c) => c.variable).join(', ')} now point${env.changes.length === 1 ? 's' : ''} at local forwards to the cluster's Services (details in the log).`,
    );
  }
  return env.variables;
}
