// Exit codes of the `intercept` command line, so scripts can tell failures apart.
import type { FailureKind } from '../core/errors';

export const ExitCode = {
  ok: 0,
  /** Anything not listed below. */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** No kubeconfig, cluster unreachable, TLS or credentials refused. */
  clusterAccess: 3,
  /** RBAC refused an action. */
  forbidden: 4,
  /** The Service, port or workload does not exist or cannot be intercepted. */
  notInterceptable: 5,
  /** The claim is held by someone else, or claims block a removal. */
  claimHeld: 6,
  /** The change was not made: a stalled rollout, a GitOps-managed workload, a sidecar of another version, a refusal. */
  notChanged: 7,
  /** Interrupted (Ctrl-C) before the work was done; what was started was undone. */
  interrupted: 130,
} as const;

export function exitCodeFor(kind: FailureKind): number {
  switch (kind) {
    case 'no-kubeconfig':
    case 'bad-kubeconfig':
    case 'unreachable':
    case 'tls':
    case 'unauthorized':
      return ExitCode.clusterAccess;
    case 'forbidden':
      return ExitCode.forbidden;
    case 'not-found':
    case 'not-interceptable':
      return ExitCode.notInterceptable;
    case 'claim-held':
    case 'claims-held':
      return ExitCode.claimHeld;
    case 'rollout-stalled':
    case 'gitops-managed':
    case 'sidecar-version':
    case 'conflict':
    case 'rejected':
      return ExitCode.notChanged;
    case 'cancelled':
      return ExitCode.interrupted;
    case 'unexpected':
      return ExitCode.failed;
  }
}
