// Why a tunnel could not be opened, as data the UI can act on rather than a string to show.

export interface ClaimHolder {
  readonly developer: string;
  readonly since: string;
}

export type TunnelFailure =
  /** Someone else holds the claim; `holder` says who. */
  | { readonly kind: 'claim-held'; readonly message: string; readonly holder: ClaimHolder }
  /** The sidecar speaks another protocol version. */
  | { readonly kind: 'version-mismatch'; readonly message: string; readonly supported: readonly number[] }
  /** The claim, developer name or port was refused as malformed. */
  | { readonly kind: 'bad-claim'; readonly message: string; readonly field: string }
  /** The control port could not be reached or did not answer the handshake. */
  | { readonly kind: 'unreachable'; readonly message: string }
  /** A newer tunnel with the same lease took the claim over (the same holder reconnected elsewhere). */
  | { readonly kind: 'replaced'; readonly message: string }
  /** Any other answer. */
  | { readonly kind: 'unexpected'; readonly message: string; readonly status: number };

export class TunnelError extends Error {
  constructor(readonly failure: TunnelFailure) {
    super(failure.message);
    this.name = 'TunnelError';
  }

  /** Failures that a retry cannot fix. */
  get final(): boolean {
    return this.failure.kind !== 'unreachable';
  }
}

/** Builds the typed failure from the sidecar's refusal (its JSON body). */
export function failureFromRefusal(status: number, body: string): TunnelFailure {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // not JSON: something else answered on that port
  }
  const message = typeof parsed.message === 'string' ? parsed.message : `The sidecar answered ${status}: ${body.slice(0, 200)}`;
  if (status === 409 && typeof parsed.holder === 'object' && parsed.holder !== null) {
    const h = parsed.holder as Record<string, unknown>;
    return { kind: 'claim-held', message, holder: { developer: String(h.developer), since: String(h.since) } };
  }
  if (status === 426) {
    const supported = Array.isArray(parsed.supported) ? parsed.supported.map(Number) : [];
    return { kind: 'version-mismatch', message, supported };
  }
  if (status === 400 && typeof parsed.field === 'string') return { kind: 'bad-claim', message, field: parsed.field };
  return { kind: 'unexpected', message, status };
}
