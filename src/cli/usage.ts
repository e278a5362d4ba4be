export class UsageError extends Error {}

export const USAGE = `intercept: route your own requests from a Kubernetes Service to a program on this machine.

Usage:
  intercept services [--namespace <ns>]
      the Services of a namespace, their ports, and whether each can be intercepted
  intercept start <service> --port <service port> --local <local port> [--header <name>=<value>]
      adds the proxy to the Service's workload if needed, then sends every request that carries the
      header (default x-intercept-id=<you>-<random>) to 127.0.0.1:<local port> until Ctrl-C
      [--developer <name>] [--accept-gitops] [--image <sidecar image>]
      [--rollout-timeout <seconds>]  give up on the rollout after that long and undo the change
      (default: 10 minutes, or 60 s once a cause of a stall such as a refused pod is seen)
  intercept status [--namespace <ns>]
      workloads with the proxy, their ports and who holds which claim
  intercept stop <service>
      ends the intercepts of that Service running on this machine (their claims are released)
  intercept remove <service> [--force]
      restores the Service and its workload exactly; refused while anyone holds a claim, unless --force

Options for every command:
  --namespace, -n <ns>   default: the context's namespace
  --context <name>       default: the kubeconfig's current context (KUBECONFIG is read as kubectl does)
  --json                 one JSON object per line, for scripts
  --help, --version

Exit codes: 0 done, 1 failed, 2 bad usage, 3 cluster not reachable or credentials refused,
4 forbidden by RBAC, 5 no such Service/port or it cannot be intercepted, 6 a claim is held,
7 nothing changed (stalled rollout, GitOps-managed workload, sidecar of another version, refused by the
cluster), 130 interrupted.
`;
