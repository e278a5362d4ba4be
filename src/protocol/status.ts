// What the sidecar's GET /v1/status answers (docs/tunnel-protocol.md): the sidecar writes it, the
// extension and the tests read it.

/** One claim as the status endpoint shows it and a refusal names it; never the lease. */
export interface ClaimInfo {
  readonly port: number;
  readonly header: string;
  readonly value: string;
  readonly developer: string;
  readonly since: string;
  readonly state: 'connected' | 'grace' | 'announced';
  readonly graceEndsAt?: string;
  /** For an announced claim: when its entry expires. */
  readonly expiresAt?: string;
}

export interface SidecarStatus {
  /** The newest protocol version the sidecar speaks (a version-1 sidecar says 1 and has no `protocols`). */
  readonly protocol: number;
  /** Every version the sidecar speaks; absent on version 1. */
  readonly protocols?: readonly number[];
  /** What this sidecar was started to allow: `outbound`. Absent on version 1. */
  readonly features?: readonly string[];
  readonly ports: readonly { readonly listenPort: number; readonly appPort: number }[];
  readonly claims: readonly ClaimInfo[];
  /** Tunnel sessions open now (a claim in its grace period has none). */
  readonly tunnels: number;
}
