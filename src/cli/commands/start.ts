// `intercept start <service> --port <p> --local <lp>`: injects the sidecar when needed, opens a tunnel
// to every pod, prints each intercepted request, and releases the claim on Ctrl-C.
import { randomBytes } from 'node:crypto';
import { CoreError } from '../../core/errors';
import { Injector } from '../../core/session/injector';
import { InterceptSession } from '../../core/session/intercept-session';
import { LocalSessions } from '../../core/session/local-sessions';
import { checkClaim } from '../../protocol/claim';
import { developerName } from '../../core/session/developer';
import type { CommandContext } from '../context';
import { showInjectEvent } from '../progress';
import { UsageError } from '../usage';

export interface StartOptions {
  readonly service: string;
  readonly port: string;
  readonly local: string;
  readonly header?: string;
  readonly developer?: string;
  readonly acceptGitOps: boolean;
  readonly image?: string;
  /** Seconds to wait for the rollout before giving up (and undoing). */
  readonly rolloutTimeout?: string;
}

export function parseHeader(text: string | undefined, user: string): { header: string; value: string } {
  if (text === undefined) return { header: 'x-intercept-id', value: `${user.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, '')}-${randomBytes(2).toString('hex')}` };
  const eq = text.indexOf('=');
  const colon = text.indexOf(':');
  const at = eq > 0 ? eq : colon;
  if (at <= 0) throw new UsageError(`--header wants name=value, got "${text}"`);
  const header = text.slice(0, at).trim();
  const value = text.slice(at + 1).trim();
  const problem = checkClaim(header, value);
  if (problem) throw new UsageError(`--header: the ${problem.field} ${problem.reason}`);
  return { header, value };
}

function portNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new UsageError(`${flag} wants a port number 1-65535, got "${text}"`);
  return Number(text);
}

function seconds(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} wants a whole number of seconds (1 or more), got "${text}"`);
  return Number(text);
}

export async function startCommand(ctx: CommandContext, o: StartOptions): Promise<number> {
  const localPort = portNumber(o.local, '--local');
  const rolloutTimeoutMs = o.rolloutTimeout === undefined ? undefined : seconds(o.rolloutTimeout, '--rollout-timeout') * 1000;
  const developer = o.developer ?? developerName();
  const claim = parseHeader(o.header, developer);
  const client = ctx.client();
  const namespace = ctx.namespace(client);
  const build = await ctx.sidecarBuild();
  const out = ctx.out;
  const injector = new Injector({
    client,
    build,
    ...(o.image ? { image: o.image } : {}),
    ...(rolloutTimeoutMs ? { rollout: { timeoutMs: rolloutTimeoutMs } } : {}),
    onEvent: showInjectEvent(out),
  });
  const port = /^\d+$/.test(o.port) ? Number(o.port) : o.port;
  const injection = await injector.inject({ namespace, service: o.service, port }, { acceptGitOps: o.acceptGitOps, signal: ctx.signal });
  if (ctx.signal.aborted) throw new CoreError({ kind: 'cancelled', message: 'Interrupted.', hint: 'Nothing is intercepted.' });

  const session = new InterceptSession({ client, injection, claim, developer, local: { host: '127.0.0.1', port: localPort } });
  session.on('pod', (pod, state, detail) => out.progress('pod', { pod, state, ...(detail ? { detail } : {}) }, `  pod ${pod}: ${state}${detail ? ` (${detail})` : ''}`));
  session.on('request', (r) =>
    out.emit('request', r, `${new Date(r.time).toISOString().slice(11, 23)} ${r.method} ${r.path} → ${r.status} ${r.durationMs} ms (${r.pod})`),
  );
  session.on('localError', (code, address, pod) =>
    out.progress('local-error', { code, address, pod }, `warning: a request from pod ${pod} found nothing at ${address} (${code}): is your program listening on port ${localPort}?`),
  );
  session.on('warning', (message) => out.progress('warning', { message }, `warning: ${message}`));
  const ended = new Promise<CoreError>((resolve) => session.once('ended', resolve));
  await session.start();
  const unregister = new LocalSessions().register({
    pid: process.pid,
    context: client.context,
    namespace,
    service: o.service,
    port: injection.servicePort.port,
    header: claim.header,
    value: claim.value,
    localPort,
    startedAt: new Date().toISOString(),
  });
  try {
    out.emit(
      'intercepting',
      { namespace, service: o.service, port: injection.servicePort.port, header: claim.header, value: claim.value, localPort, pods: [...session.pods().keys()] },
      `Intercepting ${namespace}/${o.service}:${injection.servicePort.port} → 127.0.0.1:${localPort} on ${session.pods().size} pod(s).\n` +
        `Requests with "${claim.header}: ${claim.value}" come to you; press Ctrl-C to stop.\n` +
        `  curl -H '${claim.header}: ${claim.value}' http://${o.service}.${namespace}:${injection.servicePort.port}/`,
    );
    const first = await Promise.race([ctx.interrupted.then(() => undefined), ended]);
    await session.stop();
    if (first instanceof CoreError) throw first;
    out.emit('stopped', { namespace, service: o.service }, `Stopped: the claim "${claim.header}: ${claim.value}" is released.`);
    return 0;
  } finally {
    unregister();
  }
}
