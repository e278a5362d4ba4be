// `intercept remove <service>`: restores the Service and, when no other Service routes through it,
// the workload without the proxy; refused while claims are held unless --force.
import { CoreError } from '../../core/errors';
import { readService, workloadOf } from '../../core/kube/workloads';
import { Injector } from '../../core/session/injector';
import { readInjection } from '../../core/session/injection-plan';
import { holdersOf, sidecarStatus } from '../../core/session/proxy-status';
import type { CommandContext } from '../context';

export async function removeCommand(ctx: CommandContext, service: string, force: boolean): Promise<number> {
  const client = ctx.client();
  const namespace = ctx.namespace(client);
  const svc = await readService(client, namespace, service);
  const workload = await workloadOf(client, svc);
  const record = readInjection(workload.object.metadata?.annotations);
  if (record) {
    const holders = holdersOf(await sidecarStatus(client, workload, record));
    if (holders.length > 0 && !force) {
      throw new CoreError({
        kind: 'claims-held',
        holders,
        message: `Claims on ${workload.kind} ${workload.name} are held by ${holders.join(', ')}.`,
        hint: 'Ask them to stop, or remove with --force (their intercepts end).',
      });
    }
    if (holders.length > 0) ctx.out.progress('warning', { holders }, `warning: ending the intercepts of ${holders.join(', ')}`);
  }
  const injector = new Injector({
    client,
    build: await ctx.sidecarBuild(),
    onEvent: (e) => {
      if (e.kind === 'step') ctx.out.progress('step', e, e.message);
      else if (e.kind === 'rollout') ctx.out.progress('rollout', e, `  rollout: ${e.progress.updated}/${e.progress.desired} updated, ${e.progress.ready} ready${e.stall ? ` (${e.stall})` : ''}`);
    },
  });
  const r = await injector.remove({ namespace, service }, { signal: ctx.signal });
  ctx.out.emit(
    'removed',
    { namespace, service, workload: { kind: r.workload.kind, name: r.workload.name }, removedSidecar: r.removedSidecar },
    r.removedSidecar ? `Removed: ${namespace}/${service} and ${r.workload.kind} ${r.workload.name} are as they were.` : `Service ${namespace}/${service} is as it was; the proxy stays for another Service.`,
  );
  return 0;
}
