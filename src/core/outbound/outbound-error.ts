// Why an outbound connection or session could not be opened, as data: the sidecar's reason
// (docs/tunnel-protocol.md, "Outbound streams") and a message for a person.

/** The reasons of a refused session; a refused stream has the sidecar's own (OutboundFailure). */
export type OutboundSessionRefusal =
  /** The sidecar predates outbound streams (protocol 1): its control port has no outbound endpoint. */
  | 'unsupported'
  /** The sidecar was not started with --outbound. */
  | 'outbound-disabled'
  /** The lease holds no claim on this sidecar (now). */
  | 'no-claim'
  | 'protocol-version'
  | 'unreachable'
  | 'closed'
  | 'unexpected';

export class OutboundError extends Error {
  constructor(
    /** A session refusal, or a stream's `x-intercept-error` (`connection-refused`, `dns-failure`, ...). */
    readonly reason: string,
    message: string,
    readonly status?: number,
    /** The system call's code in the pod, e.g. ECONNREFUSED. */
    readonly errno?: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }

  /** Session refusals that reconnecting cannot fix. */
  get final(): boolean {
    const final: readonly OutboundSessionRefusal[] = ['unsupported', 'outbound-disabled', 'protocol-version', 'closed'];
    return (final as readonly string[]).includes(this.reason);
  }
}

const STREAM_MESSAGES: Record<string, (dest: string) => string> = {
  'connection-refused': (d) => `Nothing accepts connections on ${d} as seen from the pod (connection refused).`,
  'dns-failure': (d) => `The pod's DNS does not resolve the host of ${d}.`,
  unreachable: (d) => `${d} is unreachable from the pod.`,
  'connect-timeout': (d) => `${d} did not accept the connection from the pod in time (a network policy may drop it).`,
  'connect-failed': (d) => `Connecting to ${d} from the pod failed.`,
  'not-allowed': (d) => `The sidecar refused ${d}: this developer holds no claim on it any more.`,
  'too-many-streams': (d) => `The sidecar refused ${d}: too many outbound connections are open.`,
  'bad-target': (d) => `The sidecar refused "${d}": not a host:port.`,
};

/** The error of a refused outbound stream, from its answer's status and headers. */
export function streamRefusal(dest: string, status: number, reason: string | undefined, errno: string | undefined): OutboundError {
  const text = reason !== undefined ? STREAM_MESSAGES[reason]?.(dest) : undefined;
  return new OutboundError(
    reason ?? 'unexpected',
    `${text ?? `The sidecar answered ${status} to an outbound connection to ${dest}.`}${errno !== undefined ? ` (${errno})` : ''}`,
    status,
    errno,
  );
}

/** The error of a refused outbound handshake, from its status and JSON body. */
export function sessionRefusal(status: number, body: string): OutboundError {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // not JSON: something else answered
  }
  const message = typeof parsed.message === 'string' ? parsed.message : `The sidecar answered ${status}.`;
  if (status === 404) {
    return new OutboundError('unsupported', 'The sidecar is of an older version (protocol 1) without outbound connections; update the sidecar image.', status);
  }
  const known = ['outbound-disabled', 'no-claim', 'protocol-version'];
  const reason = typeof parsed.error === 'string' && known.includes(parsed.error) ? parsed.error : 'unexpected';
  return new OutboundError(reason, message, status);
}
