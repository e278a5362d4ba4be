// The tunnel protocol shared by the sidecar (intercept-proxy) and the extension's tunnel client.
// docs/tunnel-protocol.md describes it in full; change both sides and the doc together.

/**
 * The newest protocol version this code speaks. Version 2 adds outbound streams (OUTBOUND_PATH) and
 * changes nothing of version 1, so a sidecar speaks both and a client asks for the one it needs.
 */
export const PROTOCOL_VERSION = 2;
/** Every version the sidecar accepts on the tunnel handshake; its 426 lists them. */
export const SUPPORTED_PROTOCOLS: readonly number[] = [1, 2];
/**
 * What the tunnel handshake sends: the tunnel is the same in every version, and version 1 is the one
 * every sidecar accepts.
 */
export const TUNNEL_PROTOCOL_VERSION = 1;
/** The first version with the outbound endpoint; the outbound handshake sends it. */
export const OUTBOUND_PROTOCOL_VERSION = 2;
/** Features a sidecar lists in its status (`features`): `outbound` when it was started with --outbound. */
export const FEATURE_OUTBOUND = 'outbound';

/** Path of the control endpoint where a WebSocket handshake claims a route. */
export const TUNNEL_PATH = '/v1/tunnel';
/** Path of the control endpoint where a WebSocket handshake opens an outbound session (protocol 2). */
export const OUTBOUND_PATH = '/v1/outbound';
/** Path of the status endpoint (control port, loopback only). */
export const STATUS_PATH = '/v1/status';
/** Paths of the health endpoint (health port). */
export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/** Handshake request headers sent by the tunnel client. */
export const HandshakeHeader = {
  protocol: 'x-intercept-protocol',
  claimHeader: 'x-intercept-claim-header',
  claimValue: 'x-intercept-claim-value',
  developer: 'x-intercept-developer',
  /** Random token kept across reconnects: proves a reconnect is the same lease holder. */
  lease: 'x-intercept-lease',
  /** The sidecar listen port the claim applies to; optional when the sidecar serves one port. */
  port: 'x-intercept-port',
} as const;

/** Headers on the CONNECT streams the sidecar opens inside the tunnel. */
export const StreamHeader = {
  /** Set by the tunnel client on a non-2xx CONNECT answer: why the local port could not be reached. */
  localError: 'x-intercept-local-error',
  /** Set by the tunnel client: the local address it tried. */
  localAddress: 'x-intercept-local-address',
  /** Set by the sidecar: the listen port the intercepted connection arrived on. */
  listenPort: 'x-intercept-listen-port',
} as const;

/** Headers of the outbound CONNECT streams the laptop opens (protocol 2). */
export const OutboundHeader = {
  /** Set by the sidecar on a refused or failed outbound stream: why, one of OutboundFailure. */
  error: 'x-intercept-error',
  /** Set by the sidecar with `error` when a system call failed: its code, e.g. ECONNREFUSED. */
  errno: 'x-intercept-errno',
} as const;

/** The `x-intercept-error` reasons of an outbound stream, with their status. */
export const OutboundFailure = {
  badTarget: { status: 400, reason: 'bad-target' },
  notAllowed: { status: 403, reason: 'not-allowed' },
  tooManyStreams: { status: 429, reason: 'too-many-streams' },
  refused: { status: 502, reason: 'connection-refused' },
  dns: { status: 502, reason: 'dns-failure' },
  unreachable: { status: 502, reason: 'unreachable' },
  failed: { status: 502, reason: 'connect-failed' },
  timeout: { status: 504, reason: 'connect-timeout' },
} as const;

/** WebSocket close code the tunnel client uses to release its claim on purpose. */
export const CLOSE_RELEASE = 1000;
/** WebSocket close code the sidecar uses when it shuts down. */
export const CLOSE_SIDECAR_SHUTDOWN = 1001;
/** WebSocket close code the sidecar uses for a tunnel that a newer one with the same lease replaced. */
export const CLOSE_REPLACED = 4001;

export const Defaults = {
  controlPort: 15000,
  healthPort: 15001,
  graceSeconds: 10,
  maxHeaderBytes: 32 * 1024,
  /** A tunnel WebSocket message never needs to be large: HTTP/2 frames are at most 16 KiB by default. */
  maxTunnelMessageBytes: 1024 * 1024,
  heartbeatMs: 10_000,
  /** The sidecar's bound on a tunnel starting its HTTP/2 session and on each CONNECT's answer. */
  tunnelTimeoutSeconds: 10,
  /** After SIGTERM, the sidecar goes on accepting this long before it drains (endpoints lag behind). */
  shutdownDelaySeconds: 5,
  /** After the sidecar ends its side of a CONNECT stream, how long the peer has to end its own. */
  streamLingerMs: 5_000,
  /** Outbound streams one outbound session may have open at once. */
  outboundMaxStreams: 256,
  /** How long the sidecar tries to connect an outbound stream's destination. */
  outboundConnectTimeoutSeconds: 10,
} as const;

/**
 * The image the sidecar runs in by default: a stock Node image, since the sidecar's code comes from a
 * ConfigMap and no registry of our own is needed. The benchmark runs the sidecar on this Node major.
 */
export const SIDECAR_IMAGE = 'node:24-alpine';

/**
 * How Node runs the sidecar: SIDECAR_NODE_ARGS go before the script on its command line
 * (`node --optimize-for-size --no-maglev intercept-proxy.js ...`) and SIDECAR_ENV into its environment. Every
 * place that starts the sidecar uses them: the pod spec the injection writes, the Dockerfile, the
 * tests, the benchmark and the demo. Measured with the benchmark's memory part (RSS from /proc; a fresh
 * sidecar, 200 + 10,000 tunnel connect/release cycles, saturation with 50 connections, 10,000 idle
 * connections, one request on each), Node 20, against plain `node`:
 *
 * - `--optimize-for-size`: V8 lets its young generation grow to 2 × 16 MB when much survives a
 *   scavenge (HTTP/2 sessions and WebSockets of tunnels that come and go) and keeps it, and lets the
 *   old generation fill with several MB of garbage between collections. Plain: 60 → 108 MB over the
 *   tunnel cycles, 110 MB at saturation, 151 MB at the one-request peak. With this flag (young
 *   generation 1 MB, smaller steps between old-generation collections): 57 → 60 MB, 66 MB, 116 MB.
 *   `--max-semi-space-size=1` alone gave 59 → 74 MB, 74 MB, 128 MB. Requests/s at saturation were
 *   within the noise of interleaved rounds (medians 10,875 plain, 11,008 with the flag).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that mallocs under contention (V8's GC helpers
 *   under load) an arena of its own that keeps its pages; with two: about 2 MB less in each phase
 *   (57.5 MB after the cycles, 64 MB at saturation, 115 MB at the peak). The pod's default image
 *   is Alpine, whose musl malloc has no arenas: there the variable does nothing.
 * - `--no-maglev` (Node 24, the default image's line; measured there with both settings above): V8's
 *   mid-tier compiler Maglev, on by default since Node 22, compiles much of the tunnel's code again
 *   and keeps it. With it: 70 → 88 MB over the tunnel cycles and 94 MB at saturation; without it:
 *   68 → 70 MB and 71 MB. Requests/s at saturation were within the noise of interleaved rounds
 *   (medians 11,073 with Maglev and 12,440 without, nginx 13,623). On Node 20 Maglev is off anyway.
 *   Without `--optimize-for-size`, Node 24 grew 73 → 125 MB over 3,000 cycles and reached 201 MB at
 *   saturation.
 *
 * Not chosen: `--max-old-space-size` (a cap below what 10,000 connections need would crash the
 * proxy; the pod's memory limit is the bound), `--lite-mode` (about 10 % less memory, 60 % fewer requests/s),
 * `--single-threaded` (no measurable gain). V8 reads heap sizes at start: `v8.setFlagsFromString`
 * from inside the running sidecar gave 55 → 83 MB over the same cycles, so the sidecar cannot apply
 * these itself; it logs a warning when started without them. `--optimize-for-size` is not accepted in
 * NODE_OPTIONS.
 */
export const SIDECAR_NODE_ARGS: readonly string[] = ['--optimize-for-size', '--no-maglev'];
export const SIDECAR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
