// Names Intercept writes into the cluster: one place, so injection, restore and status agree.

/** Field manager of every server-side apply Intercept makes; removing its fields restores the workload. */
export const FIELD_MANAGER = 'intercept';
export const SIDECAR_CONTAINER = 'intercept-proxy';
/** The volume with the sidecar's one-file build, and where the container sees it. */
export const CODE_VOLUME = 'intercept-proxy-code';
export const CODE_MOUNT = '/intercept';
export const CODE_FILE = 'intercept-proxy.js';
/** The volume with the announced claims (a ConfigMap per workload), and where the sidecar reads it. */
export const CLAIMS_VOLUME = 'intercept-claims';
export const CLAIMS_MOUNT = '/intercept-claims';

/** On the workload: what the injection added (JSON, see InjectionRecord). */
export const ANNOTATION_INJECTION = 'intercept.dev/injection';
/** On the Service: the intercepted ports' original targetPorts (JSON, see ServiceRecord). */
export const ANNOTATION_SERVICE = 'intercept.dev/target-ports';
/** On the ConfigMap with the sidecar's code. */
export const ANNOTATION_VERSION = 'intercept.dev/version';
export const ANNOTATION_SHA256 = 'intercept.dev/sha256';
/** On every object Intercept creates, so they can be found and cleaned up. */
export const LABEL_MANAGED = 'app.kubernetes.io/managed-by';
export const LABEL_MANAGED_VALUE = 'intercept';
export const LABEL_WORKLOAD = 'intercept.dev/workload';

export function codeConfigMapName(version: string, sha256: string): string {
  return `intercept-proxy-${version.replace(/[^a-z0-9.-]/gi, '-').toLowerCase()}-${sha256.slice(0, 10)}`;
}

export function claimsConfigMapName(kind: string, workload: string): string {
  // ConfigMap names are DNS subdomains (253 characters); workload names are at most 253 too.
  return `intercept-claims-${kind.toLowerCase()}-${workload}`.slice(0, 253);
}
