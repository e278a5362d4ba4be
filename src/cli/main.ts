// The `intercept` command line (dist/cli.js): the same core as the editor, for a terminal or another
// editor. See USAGE for the commands and exit codes.
import { parseArgs } from 'node:util';
import { CoreError } from '../core/errors';
import { removeCommand } from './commands/remove';
import { servicesCommand } from './commands/services';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { stopCommand } from './commands/stop';
import { VERSION } from '../core/version';
import { makeContext } from './context';
import { ExitCode, exitCodeFor } from './exit-codes';
import { Output } from './output';
import { USAGE, UsageError } from './usage';

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  json: { type: 'boolean', default: false },
  port: { type: 'string' },
  local: { type: 'string' },
  header: { type: 'string' },
  developer: { type: 'string' },
  image: { type: 'string' },
  'rollout-timeout': { type: 'string' },
  'accept-gitops': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${USAGE}`);
    return ExitCode.usage;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(USAGE);
    return ExitCode.ok;
  }
  if (v.version) {
    process.stdout.write(`${VERSION}\n`);
    return ExitCode.ok;
  }
  const out = new Output(v.json);
  const abort = new AbortController();
  let onSignal: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    onSignal = () => {
      // A second Ctrl-C while cleaning up is ignored: leaving the cluster half-changed is worse.
      if (abort.signal.aborted) return;
      out.progress('interrupted', {}, 'Stopping…');
      abort.abort();
      resolve();
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx = makeContext({ namespace: v.namespace, context: v.context, json: v.json }, out, abort.signal, interrupted);
  const [command, ...args] = positionals;
  const want = (n: number) => {
    if (args.length !== n) throw new UsageError(`${command} takes ${n === 0 ? 'no arguments' : `${n} argument(s)`}, got ${args.length}`);
  };
  try {
    switch (command) {
      case 'services':
        want(0);
        return await servicesCommand(ctx);
      case 'start':
        want(1);
        if (!v.port || !v.local) throw new UsageError('start needs --port <service port> and --local <local port>');
        return await startCommand(ctx, {
          service: args[0]!,
          port: v.port,
          local: v.local,
          header: v.header,
          developer: v.developer,
          acceptGitOps: v['accept-gitops'],
          image: v.image,
          rolloutTimeout: v['rollout-timeout'],
        });
      case 'status':
        want(0);
        return await statusCommand(ctx);
      case 'stop':
        want(1);
        return await stopCommand(ctx, args[0]!);
      case 'remove':
        want(1);
        return await removeCommand(ctx, args[0]!, v.force);
      case undefined:
        throw new UsageError('a command is needed');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      return ExitCode.usage;
    }
    if (err instanceof CoreError) {
      out.failure(err.failure);
      return exitCodeFor(err.failure.kind);
    }
    out.failure({ kind: 'unexpected', message: (err as Error).stack ?? String(err), hint: 'This is a defect of Intercept; please report it.' });
    return ExitCode.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// Exits once the work is done: watches and keep-alive connections to the API server would otherwise
// keep the process alive after an intercept stopped.
main(process.argv.slice(2)).then(
  (code) => {
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = ExitCode.failed;
  },
);
