// The kubeconfig as kubectl reads it: the files in KUBECONFIG (path-list, missing files skipped) or
// ~/.kube/config; for each cluster, user and context name the first file that defines it wins, and
// so does the first current-context. client-node's own merge differs on both points (the last
// current-context wins, a duplicate name throws), so the files are merged here and handed over whole.
// Relative certificate paths stay relative to their own file. Credentials (certificates, tokens, exec
// plugins such as `aws eks get-token` or `gke-gcloud-auth-plugin`) are client-node's to apply.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { CoreError } from '../errors';

export interface KubeConfigSource {
  /** The KUBECONFIG value (path-list); undefined or empty: ~/.kube/config. */
  readonly kubeconfigEnv?: string;
  readonly homeDir?: string;
  /** A context to use instead of the current one. */
  readonly context?: string;
}

export interface ContextInfo {
  readonly name: string;
  readonly cluster: string;
  readonly user: string;
  /** The context's namespace, `default` when it names none. */
  readonly namespace: string;
  readonly current: boolean;
}

/** Which files a KUBECONFIG value (or its absence) means, in precedence order, existing ones only. */
export function kubeconfigFiles(source: KubeConfigSource): string[] {
  const env = source.kubeconfigEnv;
  if (env && env.length > 0) return env.split(path.delimiter).filter((f) => f.length > 0 && existsSync(f));
  const file = path.join(source.homeDir ?? os.homedir(), '.kube', 'config');
  return existsSync(file) ? [file] : [];
}

/** Loads and merges the kubeconfig files; the chosen context becomes the current one. */
export function loadKubeConfig(source: KubeConfigSource = { kubeconfigEnv: process.env.KUBECONFIG }): KubeConfig {
  const files = kubeconfigFiles(source);
  if (files.length === 0) {
    const where = source.kubeconfigEnv ? `none of the files in KUBECONFIG (${source.kubeconfigEnv}) exists` : '~/.kube/config does not exist';
    throw new CoreError({
      kind: 'no-kubeconfig',
      message: `No kubeconfig found: ${where}.`,
      hint: 'Create one with your cluster provider (for example `aws eks update-kubeconfig`, `gcloud container clusters get-credentials`, `az aks get-credentials`), or set KUBECONFIG.',
    });
  }
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const file of files) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new CoreError({
        kind: 'bad-kubeconfig',
        message: `The kubeconfig ${file} cannot be read: ${(err as Error).message}`,
        hint: 'Fix or remove that file (kubectl reads the same files).',
      });
    }
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext && kc.getCurrentContext()) currentContext = kc.getCurrentContext();
  }
  const chosen = source.context ?? currentContext;
  if (!chosen) {
    throw new CoreError({
      kind: 'no-kubeconfig',
      message: `The kubeconfig (${files.join(', ')}) sets no current context.`,
      hint: 'Choose one with `kubectl config use-context <name>`, or pick a context explicitly.',
    });
  }
  const context = contexts.get(chosen);
  if (!context) {
    throw new CoreError({
      kind: 'bad-kubeconfig',
      message: `The kubeconfig has no context named "${chosen}" (it has: ${[...contexts.keys()].join(', ') || 'none'}).`,
      hint: 'Pick one of the contexts listed.',
    });
  }
  if (!clusters.has(context.cluster)) {
    throw new CoreError({
      kind: 'bad-kubeconfig',
      message: `Context "${chosen}" names cluster "${context.cluster}", which the kubeconfig does not define.`,
      hint: 'Fix the context or add the cluster to the kubeconfig.',
    });
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: chosen,
  });
  return merged;
}

export function contextsOf(kc: KubeConfig): ContextInfo[] {
  const current = kc.getCurrentContext();
  return kc.getContexts().map((c) => ({
    name: c.name,
    cluster: c.cluster,
    user: c.user,
    namespace: c.namespace ?? 'default',
    current: c.name === current,
  }));
}

/** The namespace of the current context (`default` when it names none). */
export function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '';
}
