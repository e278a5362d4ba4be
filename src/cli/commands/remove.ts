// `intercept remove <service>`: restores the Service and, when no other Service routes through it,
// the workload without the proxy; refused while claims are held unless --force.
import { Injector } from '../../core/session/injector';
import { removeProxy } from '../../core/session/remove-proxy';
import type { CommandContext } from '../context';
import { showInjectEvent } from '../progress';

export async function removeCommand(ctx: CommandContext, service: string, force: boolean): Promise<number> {
  const client = ctx.client();
  const namespace = ctx.namespace(client);
  const injector = new Injector({
    client,
    build: await ctx.sidecarBuild(),
    onEvent: showInjectEvent(ctx.out),
  });
  const r = await removeProxy(client, injector, { namespace, service }, { force, signal: ctx.signal });
  if (r.endedClaimsOf.length > 0) ctx.out.progress('warning', { holders: r.endedClaimsOf }, `warning: the intercepts of ${r.endedClaimsOf.join(', ')} ended`);
  ctx.out.emit(
    'removed',
    { namespace, service, workload: { kind: r.workload.kind, name: r.workload.name }, removedSidecar: r.removedSidecar, endedClaimsOf: r.endedClaimsOf },
    r.removedSidecar ? `Removed: ${namespace}/${service} and ${r.workload.kind} ${r.workload.name} are as they were.` : `Service ${namespace}/${service} is as it was; the proxy stays for another Service.`,
  );
  return 0;
}
