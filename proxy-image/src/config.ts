// The sidecar's command line is a contract: the extension writes it into pod specs. Every flag has
// an environment variable of the same meaning; flags win over the environment.
import { Defaults } from '../../src/protocol/constants';
import { LOG_LEVELS, type LogLevel } from './log';

export interface PortMapping {
  readonly listenPort: number;
  readonly appPort: number;
}

export interface ProxyConfig {
  readonly mappings: readonly PortMapping[];
  readonly controlPort: number;
  readonly healthPort: number;
  readonly graceMs: number;
  /** Where the app listens: 127.0.0.1, or the pod's IP for apps that bind only to it. */
  readonly appHost: string;
  /** Address the listen and health ports bind to (the control port is always 127.0.0.1). */
  readonly bindAddress: string;
  readonly logLevel: LogLevel;
  readonly maxHeaderBytes: number;
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** On SIGTERM, how long requests in flight may take to finish before the rest is cut. */
  readonly drainMs: number;
  /**
   * On SIGTERM, how long to go on accepting before draining: the Service's endpoints and every node's
   * proxy learn of the pod's end a moment after the pod does, and until then they still send it
   * connections. /readyz answers 503 meanwhile.
   */
  readonly shutdownDelayMs: number;
  /** How long a tunnel may take to start its HTTP/2 session, and to answer each CONNECT. */
  readonly tunnelTimeoutMs: number;
  /** Folder of announced claims (a mounted ConfigMap), or null: no announced claims. */
  readonly claimsDir: string | null;
  /** Whether developers holding a claim may open outbound streams (dialed from this pod). */
  readonly outbound: boolean;
  /** Outbound streams one outbound session may have open at once. */
  readonly outboundMaxStreams: number;
  /** How long an outbound stream's destination has to accept the connection. */
  readonly outboundConnectTimeoutMs: number;
}

export type ConfigResult = { ok: true; config: ProxyConfig } | { ok: false; error: string } | { ok: 'help' } | { ok: 'version' };

export const USAGE = `intercept-proxy: routes requests that carry a claimed header to a developer's tunnel,
and every other byte to the app in the same pod.

Usage: intercept-proxy --listen <listenPort>:<appPort> [--listen ...] [options]

  --listen <listen>:<app>   serve HTTP on <listen>, forward to the app on <app>; repeatable
                            (env INTERCEPT_LISTEN, comma-separated: "8080:80,8443:443")
  --control-port <port>     tunnel and status endpoint, bound to 127.0.0.1 only
                            (env INTERCEPT_CONTROL_PORT, default ${Defaults.controlPort})
  --health-port <port>      /healthz and /readyz for probes (env INTERCEPT_HEALTH_PORT, default ${Defaults.healthPort})
  --grace <seconds>         how long requests wait for a dropped tunnel to come back
                            (env INTERCEPT_GRACE, default ${Defaults.graceSeconds})
  --app-host <ip>           where the app listens (env INTERCEPT_APP_HOST, default 127.0.0.1)
  --bind-address <ip>       address of the listen and health ports (env INTERCEPT_BIND_ADDRESS, default 0.0.0.0)
  --log-level <level>       ${LOG_LEVELS.join(', ')} (env INTERCEPT_LOG_LEVEL, default info)
  --max-header-bytes <n>    larger request heads are answered 431 (env INTERCEPT_MAX_HEADER_BYTES, default ${Defaults.maxHeaderBytes})
  --header-timeout <s>      time a client has to send a whole request head (env INTERCEPT_HEADER_TIMEOUT, default 30)
  --idle-timeout <s>        idle keep-alive connections are closed after this (env INTERCEPT_IDLE_TIMEOUT, default 120)
  --shutdown-delay <s>      on SIGTERM, time to go on accepting while the endpoints catch up, before draining
                            (env INTERCEPT_SHUTDOWN_DELAY, default ${Defaults.shutdownDelaySeconds}; 0: drain at once)
  --drain-timeout <s>       on SIGTERM, time for requests in flight to finish (env INTERCEPT_DRAIN_TIMEOUT, default 20)
  --tunnel-timeout <s>      time a developer's tunnel has to start its HTTP/2 session after the handshake, and to
                            answer each intercepted connection (env INTERCEPT_TUNNEL_TIMEOUT, default ${Defaults.tunnelTimeoutSeconds})
  --claims-dir <dir>        folder of announced claims (a mounted ConfigMap, one JSON file per claim), read at start
                            and every second: matching requests wait for their developer's tunnel
                            (env INTERCEPT_CLAIMS_DIR, default none)
  --outbound                let developers who hold a claim open connections from this pod to host:port (DNS, network
                            policies and identity of the pod); each destination is logged (env INTERCEPT_OUTBOUND=true)
  --outbound-max-streams <n>  outbound connections one developer's session may have open at once
                            (env INTERCEPT_OUTBOUND_MAX_STREAMS, default ${Defaults.outboundMaxStreams})
  --outbound-connect-timeout <s>  time an outbound destination has to accept the connection
                            (env INTERCEPT_OUTBOUND_CONNECT_TIMEOUT, default ${Defaults.outboundConnectTimeoutSeconds})
  --help, --version
`;

const FLAGS: Record<string, string> = {
  '--listen': 'INTERCEPT_LISTEN',
  '--control-port': 'INTERCEPT_CONTROL_PORT',
  '--health-port': 'INTERCEPT_HEALTH_PORT',
  '--grace': 'INTERCEPT_GRACE',
  '--app-host': 'INTERCEPT_APP_HOST',
  '--bind-address': 'INTERCEPT_BIND_ADDRESS',
  '--log-level': 'INTERCEPT_LOG_LEVEL',
  '--max-header-bytes': 'INTERCEPT_MAX_HEADER_BYTES',
  '--header-timeout': 'INTERCEPT_HEADER_TIMEOUT',
  '--idle-timeout': 'INTERCEPT_IDLE_TIMEOUT',
  '--drain-timeout': 'INTERCEPT_DRAIN_TIMEOUT',
  '--shutdown-delay': 'INTERCEPT_SHUTDOWN_DELAY',
  '--tunnel-timeout': 'INTERCEPT_TUNNEL_TIMEOUT',
  '--claims-dir': 'INTERCEPT_CLAIMS_DIR',
  '--outbound-max-streams': 'INTERCEPT_OUTBOUND_MAX_STREAMS',
  '--outbound-connect-timeout': 'INTERCEPT_OUTBOUND_CONNECT_TIMEOUT',
};

/** Flags that take no value; their variables take true/false (or 1/0, on/off; empty is false). */
const SWITCHES: Record<string, string> = {
  '--outbound': 'INTERCEPT_OUTBOUND',
};

class ConfigError extends Error {}

function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new ConfigError(`${what} must be a port number 1-65535, got "${text}"`);
  return n;
}

function positive(text: string, what: string, allowFraction: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (!allowFraction && !Number.isInteger(n))) {
    throw new ConfigError(`${what} must be a positive ${allowFraction ? 'number' : 'integer'}, got "${text}"`);
  }
  return n;
}

function nonNegative(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(`${what} must be a number of seconds, 0 or more, got "${text}"`);
  return n;
}

function switchOn(text: string | undefined, what: string): boolean {
  const t = (text ?? '').trim().toLowerCase();
  if (['', 'false', '0', 'off', 'no'].includes(t)) return false;
  if (['true', '1', 'on', 'yes'].includes(t)) return true;
  throw new ConfigError(`${what} must be true or false, got "${text}"`);
}

function mapping(text: string): PortMapping {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  if (!m) throw new ConfigError(`--listen takes <listenPort>:<appPort>, got "${text}"`);
  return { listenPort: port(m[1]!, '--listen port'), appPort: port(m[2]!, '--listen app port') };
}

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ConfigResult {
  const given = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { ok: 'help' };
    if (arg === '--version') return { ok: 'version' };
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (flag in SWITCHES && eq < 0) {
      given.set(flag, ['true']);
      continue;
    }
    if (!(flag in FLAGS)) return { ok: false, error: `unknown argument "${arg}" (see --help)` };
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) return { ok: false, error: `${flag} needs a value` };
    given.set(flag, [...(given.get(flag) ?? []), value]);
  }
  const one = (flag: string): string | undefined => given.get(flag)?.at(-1) ?? env[FLAGS[flag] ?? SWITCHES[flag]!];
  try {
    const listen = given.get('--listen') ?? (env.INTERCEPT_LISTEN ?? '').split(',').filter((s) => s.trim() !== '');
    if (listen.length === 0) throw new ConfigError('at least one --listen <listenPort>:<appPort> is required');
    const mappings = listen.map(mapping);
    const controlPort = port(one('--control-port') ?? String(Defaults.controlPort), '--control-port');
    const healthPort = port(one('--health-port') ?? String(Defaults.healthPort), '--health-port');
    const used = [...mappings.map((m) => m.listenPort), controlPort, healthPort];
    const dup = used.find((p, i) => used.indexOf(p) !== i);
    if (dup !== undefined) throw new ConfigError(`port ${dup} is used twice; listen, control and health ports must differ`);
    const logLevel = (one('--log-level') ?? 'info') as LogLevel;
    if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    return {
      ok: true,
      config: {
        mappings,
        controlPort,
        healthPort,
        graceMs: positive(one('--grace') ?? String(Defaults.graceSeconds), '--grace', true) * 1000,
        appHost: one('--app-host') ?? '127.0.0.1',
        bindAddress: one('--bind-address') ?? '0.0.0.0',
        logLevel,
        maxHeaderBytes: positive(one('--max-header-bytes') ?? String(Defaults.maxHeaderBytes), '--max-header-bytes', false),
        headerTimeoutMs: positive(one('--header-timeout') ?? '30', '--header-timeout', true) * 1000,
        idleTimeoutMs: positive(one('--idle-timeout') ?? '120', '--idle-timeout', true) * 1000,
        drainMs: positive(one('--drain-timeout') ?? '20', '--drain-timeout', true) * 1000,
        shutdownDelayMs: nonNegative(one('--shutdown-delay') ?? String(Defaults.shutdownDelaySeconds), '--shutdown-delay') * 1000,
        tunnelTimeoutMs: positive(one('--tunnel-timeout') ?? String(Defaults.tunnelTimeoutSeconds), '--tunnel-timeout', true) * 1000,
        // An empty value (an unset variable in a template) means no folder.
        claimsDir: one('--claims-dir') || null,
        outbound: switchOn(one('--outbound'), 'INTERCEPT_OUTBOUND'),
        outboundMaxStreams: positive(one('--outbound-max-streams') ?? String(Defaults.outboundMaxStreams), '--outbound-max-streams', false),
        outboundConnectTimeoutMs:
          positive(one('--outbound-connect-timeout') ?? String(Defaults.outboundConnectTimeoutSeconds), '--outbound-connect-timeout', true) * 1000,
      },
    };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message };
    throw e;
  }
}
