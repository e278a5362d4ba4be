// intercept-proxy: the sidecar's entry point. See config.ts for its command line.
import { parseConfig, USAGE } from './config';
import { Logger } from './log';
import { missingRuntimeSettings } from './runtime-settings';
import { Sidecar } from './sidecar';

declare const INTERCEPT_VERSION: string;

function main(): void {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (parsed.ok === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.ok === 'version') {
    process.stdout.write(`intercept-proxy ${INTERCEPT_VERSION}\n`);
    return;
  }
  if (!parsed.ok) {
    process.stderr.write(`intercept-proxy: ${parsed.error}\n`);
    process.exitCode = 2;
    return;
  }
  const log = new Logger(parsed.config.logLevel);
  const missing = missingRuntimeSettings(process.execArgv, process.env);
  if (missing.length > 0) {
    log.warn('node runs without the settings that keep the sidecar small; start it as the Dockerfile does', { missing: missing.join(' ') });
  }
  const sidecar = new Sidecar(parsed.config, log);
  // The sidecar stands in every teammate's path: a bug in one connection must not end the others.
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err.message, stack: err.stack }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: String(err) }));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info('stopping', { signal, drainMs: parsed.config.drainMs });
      void sidecar.stop(parsed.config.drainMs).then(() => process.exit(0));
    });
  }
  sidecar.start().catch((err: Error) => {
    log.error('cannot start', { error: err.message });
    process.exit(1);
  });
}

main();
