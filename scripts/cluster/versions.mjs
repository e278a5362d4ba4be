// Versions and places of the test cluster's binaries. One place to change them.
//
// Kubernetes and kwok move together: kwok v0.8.0 is built against the v0.36 Kubernetes libraries, so
// the control plane is 1.36. etcd follows the 3.6 line that Kubernetes 1.36 itself requires.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBERNETES_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.8';
export const KWOK_VERSION = 'v0.8.0';
// CoreDNS answers the cluster's DNS names; its own release line, built against its own client-go.
export const COREDNS_VERSION = 'v1.15.0';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Cache root outside the repo: $XDG_CACHE_HOME/intercept or ~/.cache/intercept. */
export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'intercept');
}

/** Folder of the binaries, keyed by every version that goes into it. */
export function binDir() {
  return (
    process.env.INTERCEPT_CLUSTER_BIN ||
    path.join(cacheRoot(), `k8s-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}`, 'bin')
  );
}

/**
 * Folder of CoreDNS, keyed by its own version (it does not follow the control plane's versions, so a
 * CoreDNS upgrade does not rebuild Kubernetes). $INTERCEPT_CLUSTER_BIN holds it too when set.
 */
export function corednsBinDir() {
  return process.env.INTERCEPT_CLUSTER_BIN || path.join(cacheRoot(), `coredns-${COREDNS_VERSION}`, 'bin');
}

/** Build folder (small generated Go modules), next to the binaries, outside the repo. */
export function buildDir() {
  return path.join(path.dirname(binDir()), 'build');
}

/** State of a running test cluster: data, certificates, logs, pids, kubeconfig. Gitignored. */
export function stateDir() {
  return process.env.INTERCEPT_CLUSTER_STATE || path.join(repoRoot, '.test-artifacts', 'cluster');
}

export function kubeconfigPath() {
  return path.join(stateDir(), 'kubeconfig');
}
