// `intercept stop <service>`: ends the intercepts of that Service that run on this machine; each
// releases its claim on every pod as it exits.
import { LocalSessions } from '../../core/session/local-sessions';
import type { CommandContext } from '../context';
import { ExitCode } from '../exit-codes';

export async function stopCommand(ctx: CommandContext, service: string): Promise<number> {
  const client = ctx.client();
  const namespace = ctx.namespace(client);
  const sessions = new LocalSessions();
  const mine = sessions.list().filter((s) => s.context === client.context && s.namespace === namespace && s.service === service);
  if (mine.length === 0) {
    ctx.out.emit('stopped', { namespace, service, stopped: [] }, `No intercept of ${namespace}/${service} runs on this machine.`);
    return ExitCode.ok;
  }
  const { stopped, stuck } = await sessions.stop(mine);
  for (const s of stopped) ctx.out.emit('stopped', { ...s }, `Stopped ${namespace}/${service}:${s.port} (${s.header}: ${s.value}); the claim is released.`);
  for (const s of stuck) ctx.out.progress('stuck', { ...s }, `warning: process ${s.pid} (${s.header}: ${s.value}) did not exit; its claim ends with its grace period once it does.`);
  return stuck.length > 0 ? ExitCode.failed : ExitCode.ok;
}
