// The tunnel protocol shared by the sidecar (intercept-proxy) and the extension's tunnel client.
// docs/tunnel-protocol.md describes it in full; change both sides and the doc together.

/** Bumped on any incompatible change; the sidecar answers 426 to another version. */
export const PROTOCOL_VERSION = 1;

/** Path of the control endpoint where a WebSocket handshake claims a route. */
export const TUNNEL_PATH = '/v1/tunnel';
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
  /** After the sidecar ends its side of a CONNECT stream, how long the peer has to end its own. */
  streamLingerMs: 5_000,
} as const;
