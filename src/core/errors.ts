// Failures of the core as data: each kind says what happened, and `hint` what the user can do. The
// editor and the command line show them; nothing parses the message.

export type CoreFailure =
  /** No kubeconfig was found, or it names no context. */
  | { readonly kind: 'no-kubeconfig'; readonly message: string; readonly hint: string }
  /** The kubeconfig or the chosen context is malformed or missing. */
  | { readonly kind: 'bad-kubeconfig'; readonly message: string; readonly hint: string }
  /** The API server did not answer (refused, unknown host, timeout). */
  | { readonly kind: 'unreachable'; readonly message: string; readonly hint: string; readonly server?: string }
  /** TLS failed: an unknown CA, a bad certificate. */
  | { readonly kind: 'tls'; readonly message: string; readonly hint: string; readonly server?: string }
  /** The credentials were refused (401), or a credential plugin failed. */
  | { readonly kind: 'unauthorized'; readonly message: string; readonly hint: string }
  /** RBAC said no: `verb` on `resource` is what is missing. */
  | {
      readonly kind: 'forbidden';
      readonly message: string;
      readonly hint: string;
      readonly verb: string;
      readonly resource: string;
      readonly namespace?: string;
    }
  | { readonly kind: 'not-found'; readonly message: string; readonly hint: string; readonly resource: string; readonly name: string }
  /** Another writer changed the object and retries on fresh state did not settle. */
  | { readonly kind: 'conflict'; readonly message: string; readonly hint: string }
  /** The API server refused the change as invalid (422) or an admission webhook or policy refused it. */
  | { readonly kind: 'rejected'; readonly message: string; readonly hint: string }
  /** The Service or its workload cannot be intercepted; `reason` tells which rule. */
  | { readonly kind: 'not-interceptable'; readonly message: string; readonly hint: string; readonly reason: NotInterceptableReason }
  /** The claim is held by another developer. */
  | { readonly kind: 'claim-held'; readonly message: string; readonly hint: string; readonly holder: string }
  /** The workload carries a sidecar of another version than this extension's. */
  | { readonly kind: 'sidecar-version'; readonly message: string; readonly hint: string; readonly found: string; readonly expected: string }
  /** A rollout did not finish; `cause` explains the stall. */
  | { readonly kind: 'rollout-stalled'; readonly message: string; readonly hint: string; readonly cause: string }
  /** Removing the proxy was refused because claims are still held (and force was not given). */
  | { readonly kind: 'claims-held'; readonly message: string; readonly hint: string; readonly holders: readonly string[] }
  /** A GitOps controller (Argo CD, Flux) manages the workload and would revert the change. */
  | { readonly kind: 'gitops-managed'; readonly message: string; readonly hint: string; readonly controller: string }
  | { readonly kind: 'cancelled'; readonly message: string; readonly hint: string }
  /** Anything else the API server answered. */
  | { readonly kind: 'unexpected'; readonly message: string; readonly hint: string; readonly status?: number };

export type FailureKind = CoreFailure['kind'];

export type NotInterceptableReason =
  | 'no-selector'
  | 'external-name'
  | 'headless'
  | 'udp-port'
  | 'no-such-port'
  | 'no-workload'
  | 'unsupported-workload'
  | 'several-workloads'
  | 'host-network'
  | 'network-policy'
  /** A paused Deployment would not roll the sidecar out. */
  | 'paused'
  | 'system-namespace';

export class CoreError extends Error {
  constructor(readonly failure: CoreFailure) {
    super(failure.message);
    this.name = 'CoreError';
  }

  get kind(): FailureKind {
    return this.failure.kind;
  }
}

/** A typed result for calls whose failures the caller is expected to handle. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: CoreFailure };

export function notInterceptable(reason: NotInterceptableReason, message: string, hint: string): CoreError {
  return new CoreError({ kind: 'not-interceptable', reason, message, hint });
}
