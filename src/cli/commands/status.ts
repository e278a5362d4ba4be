// `intercept status`: the workloads of a namespace that carry the proxy, their ports, and who holds
// which claim on which pod.
import { readInjection } from '../../core/session/injection-plan';
import { sidecarStatus } from '../../core/session/proxy-status';
import { listWorkloads } from '../../core/kube/workload-api';
import type { CommandContext } from '../context';

export async function statusCommand(ctx: CommandContext): Promise<number> {
  const client = ctx.client();
  const namespace = ctx.namespace(client);
  const workloads = (await listWorkloads(client, namespace)).filter((w) => readInjection(w.object.metadata?.annotations));
  const result = await Promise.all(
    workloads.map(async (w) => {
      const record = readInjection(w.object.metadata?.annotations)!;
      return { kind: w.kind, name: w.name, version: record.version, ports: record.ports, pods: await sidecarStatus(client, w, record) };
    }),
  );
  if (ctx.options.json) {
    ctx.out.emit('status', { context: client.context, namespace, workloads: result }, '');
    return 0;
  }
  if (result.length === 0) {
    ctx.out.emit('status', {}, `No workload in namespace ${namespace} carries the Intercept proxy.`);
    return 0;
  }
  const lines: string[] = [];
  for (const w of result) {
    lines.push(`${w.kind} ${w.name}: proxy ${w.version}, ports ${w.ports.map((p) => `${p.listenPort}→${p.appPort}`).join(', ')}`);
    const claims = new Map<string, { developer: string; pods: string[]; state: Set<string> }>();
    for (const p of w.pods) {
      if (p.error) lines.push(`  pod ${p.pod}: not asked (${p.error})`);
      for (const c of p.claims) {
        const key = `${c.header}: ${c.value}`;
        const e = claims.get(key) ?? { developer: c.developer, pods: [], state: new Set<string>() };
        e.pods.push(p.pod);
        e.state.add(c.state);
        claims.set(key, e);
      }
    }
    if (claims.size === 0) lines.push('  no claims');
    for (const [key, e] of claims) lines.push(`  ${key}  held by ${e.developer} on ${e.pods.length}/${w.pods.length} pod(s) (${[...e.state].join(', ')})`);
  }
  ctx.out.emit('status', {}, lines.join('\n'));
  return 0;
}
