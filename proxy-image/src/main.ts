// intercept-proxy: the sidecar's entry point. See config.ts for its command line.
import { parseConfig, USAGE } from './config';
import { Logger, StreamSink, type LogFields } from './log';
import { missingRuntimeSettings } from './runtime-settings';
import { Sidecar } from './sidecar';

declare const INTERCEPT_VERSION: string;

/** After SIGTERM, how long past the drain time the process may take before it exits anyway. */
const EXIT_MARGIN_MS = 1000;

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
  const stderr = new StreamSink(process.stderr);
  const stdout = new StreamSink(process.stdout, (code) =>
    stderr.write(`intercept-proxy: writing the log to stdout failed (${code}); log lines are dropped from now on\n`),
  );
  const log = new Logger(parsed.config.logLevel, stdout.write);
  const missing = missingRuntimeSettings(process.execArgv, process.env);
  if (missing.length > 0) {
    log.warn('node runs without the settings that keep the sidecar small; start it as the Dockerfile does', { missing: missing.join(' ') });
  }
  const sidecar = new Sidecar(parsed.config, log);
  // The sidecar stands in every teammate's path: a bug in one connection must not end the others.
  // A report never throws (a throw here would end the process) and never fails asynchronously
  // (the sinks take their streams' errors), so these handlers cannot feed themselves.
  const report = (msg: string, fields: LogFields): void => {
    try {
      log.error(msg, fields);
    } catch {
      // nothing more to do
    }
  };
  process.on('uncaughtException', (err: unknown) =>
    report('uncaught exception', { error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined }),
  );
  process.on('unhandledRejection', (err) => report('unhandled rejection', { error: String(err) }));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const { drainMs, shutdownDelayMs } = parsed.config;
      log.info('stopping', { signal, shutdownDelayMs, drainMs });
      // Whatever keeps the event loop going (a stuck drain, a busy connection), the process ends
      // shortly after the drain time.
      setTimeout(() => {
        log.warn('drain did not finish in time, exiting');
        process.exit(1);
      }, shutdownDelayMs + drainMs + EXIT_MARGIN_MS).unref();
      sidecar.stop(drainMs, shutdownDelayMs).then(
        () => process.exit(0),
        (err: Error) => {
          report('stopping failed', { error: err.message });
          process.exit(1);
        },
      );
    });
  }
  sidecar.start().catch((err: Error) => {
    log.error('cannot start', { error: err.message });
    process.exit(1);
  });
}

main();
