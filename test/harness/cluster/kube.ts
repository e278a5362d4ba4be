// Access to the test cluster started by `npm run cluster:up` (scripts/cluster/cluster.mjs).
//
//   kubeconfigPath()            $INTERCEPT_KUBECONFIG, else <state>/kubeconfig where <state> is
//                               $INTERCEPT_CLUSTER_STATE or <repo>/.test-artifacts/cluster
//   loadKubeConfig()            a KubeConfig of that file (throws a clear error when there is none)
//   waitFor(what, check, opts)  bounded polling with a timeout error that says what was awaited
//   createTestNamespace(kc, prefix) / deleteNamespace(kc, name)
//   kubeConfigForServiceAccount(kc, namespace, name)   a KubeConfig acting as that ServiceAccount
//                               (token from the TokenRequest API), for RBAC tests
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export function clusterStateDir(): string {
  return process.env.INTERCEPT_CLUSTER_STATE || path.join(repoRoot, '.test-artifacts', 'cluster');
}

export function kubeconfigPath(): string {
  return process.env.INTERCEPT_KUBECONFIG || path.join(clusterStateDir(), 'kubeconfig');
}

export function loadKubeConfig(file = kubeconfigPath()): KubeConfig {
  if (!existsSync(file)) {
    throw new Error(`no kubeconfig at ${file}: start the test cluster with \`npm run cluster:up\``);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

export interface WaitOptions {
  timeoutMs?: number;
  everyMs?: number;
}

/** Polls `check` until it returns a value other than undefined/false/null; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 30_000, everyMs = 100 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(everyMs);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function randomSuffix(): string {
  return randomBytes(3).toString('hex');
}

/** Creates a namespace `<prefix>-<random>` and waits until its `default` ServiceAccount exists. */
export async function createTestNamespace(kc: KubeConfig, prefix = 'test'): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomSuffix()}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'intercept.test/owner': 'harness' } } } });
  await waitFor(`ServiceAccount ${name}/default`, () => core.readNamespacedServiceAccount({ namespace: name, name: 'default' }), {
    timeoutMs: 30_000,
  });
  return name;
}

/** Deletes a namespace and, unless `wait` is false, waits until it is gone. */
export async function deleteNamespace(kc: KubeConfig, name: string, { wait = true, timeoutMs = 60_000 } = {}): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespace({ name });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (!wait) return;
  await waitFor(
    `namespace ${name} to be deleted`,
    async () => {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    },
    { timeoutMs, everyMs: 250 },
  );
}

/**
 * A KubeConfig for the same cluster that authenticates as ServiceAccount `namespace/name` (created
 * when missing), with a token from the TokenRequest API. The admin kubeconfig is system:masters;
 * this one has exactly the permissions RBAC grants the ServiceAccount.
 */
export async function kubeConfigForServiceAccount(kc: KubeConfig, namespace: string, name: string, expirationSeconds = 3600): Promise<KubeConfig> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
  const tr = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds } } });
  const token = tr.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const out = new KubeConfig();
  const user = `${namespace}-${name}`;
  out.loadFromOptions({
    clusters: [{ ...cluster, name: cluster.name }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user, namespace }],
    currentContext: user,
  });
  return out;
}

/** Whether a process with this pid still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
