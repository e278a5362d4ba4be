// The pod's environment as data: the variables Kubernetes would set, and notes on what could not
// be reproduced here (left out, unknown, or a reference that would keep the pod from starting).

export interface EnvVariable {
  readonly name: string;
  readonly value: string;
  /** Where the value came from, for people: `ConfigMap app-config key LOG_LEVEL`. */
  readonly source: string;
  /** The value came from a Secret, or was expanded from one: never written to disk or the log. */
  readonly secret: boolean;
}

export type EnvNoteKind =
  /** The variable exists in the pod, but its value was not read (Secret not chosen, or forbidden). */
  | 'left-out'
  /** The value cannot be known from here (node allocatable, the IP of a pod that is not running). */
  | 'unknown'
  /** envFrom keys the kubelet skips as invalid names. */
  | 'invalid-names'
  /** A non-optional ConfigMap, Secret or key is missing: the pod would not start with it. */
  | 'would-not-start'
  /** A field or resource Kubernetes does not offer to env (validation would refuse it). */
  | 'unsupported';

export interface EnvNote {
  readonly kind: EnvNoteKind;
  /** The variables concerned, when known (an envFrom of an unreadable Secret names none). */
  readonly variables: readonly string[];
  readonly message: string;
}

export interface ResolvedEnvironment {
  /** envFrom entries first, then `env` in order; a later definition replaces an earlier one. */
  readonly variables: readonly EnvVariable[];
  readonly notes: readonly EnvNote[];
}

/** What the loader could read of a referenced ConfigMap or Secret. */
export type SourceData =
  | { readonly state: 'read'; readonly data: Readonly<Record<string, string>> }
  | { readonly state: 'missing' }
  /** RBAC refused the read; `namespace` is where. */
  | { readonly state: 'forbidden'; readonly namespace: string }
  /** Not read on purpose (Secrets the user did not choose to include). */
  | { readonly state: 'not-read' };
