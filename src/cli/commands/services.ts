import { listServices } from '../../core/kube/services';
import type { CommandContext } from '../context';
import { table } from '../output';

export async function servicesCommand(ctx: CommandContext): Promise<number> {
  const client = ctx.client();
  const namespace = ctx.namespace(client);
  const services = await listServices(client, namespace);
  if (ctx.options.json) {
    ctx.out.emit('services', { context: client.context, namespace, services }, '');
    return 0;
  }
  if (services.length === 0) {
    ctx.out.emit('services', {}, `No Services in namespace ${namespace}.`);
    return 0;
  }
  const rows = [['SERVICE', 'PORTS', 'INTERCEPT']];
  for (const s of services) {
    const ports = s.ports.map((p) => `${p.port}${p.name ? `(${p.name})` : ''}/${p.protocol}`).join(',');
    const why = s.refusal?.message ?? (s.ports.every((p) => p.refusal) ? s.ports[0]?.refusal?.message ?? 'no ports' : 'yes');
    rows.push([s.name, ports, why]);
  }
  ctx.out.emit('services', {}, table(rows));
  return 0;
}
