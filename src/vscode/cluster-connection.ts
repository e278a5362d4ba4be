// The cluster this window works with: the kubeconfig read as kubectl reads it, the context the
// settings choose (or the current one), and one client for it. Loading fails as a typed error the
// Services view shows; a change of context or kubeconfig makes a fresh client.
import * as vscode from 'vscode';
import { CoreError, type CoreFailure } from '../core/errors';
import { KubeClient } from '../core/kube/kube-client';
import { contextsOf, loadKubeConfig, type ContextInfo } from '../core/kube/kube-config';

export type Connection = { readonly ok: true; readonly client: KubeClient; readonly contexts: readonly ContextInfo[] } | { readonly ok: false; readonly failure: CoreFailure };

export class ClusterConnection implements vscode.Disposable {
  private current: Connection | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly contextName: () => string) {}

  get(): Connection {
    this.current ??= this.load();
    return this.current;
  }

  /** The client, or the failure as a CoreError for commands to report. */
  client(): KubeClient {
    const c = this.get();
    if (!c.ok) throw new CoreError(c.failure);
    return c.client;
  }

  /** Reads the kubeconfig again (a context switch, a new file). */
  reload(): void {
    this.current = undefined;
    this.changed.fire();
  }

  private load(): Connection {
    try {
      const name = this.contextName();
      const kc = loadKubeConfig({ kubeconfigEnv: process.env.KUBECONFIG, ...(name ? { context: name } : {}) });
      return { ok: true, client: new KubeClient(kc), contexts: contextsOf(kc) };
    } catch (err) {
      if (err instanceof CoreError) return { ok: false, failure: err.failure };
      return { ok: false, failure: { kind: 'bad-kubeconfig', message: (err as Error).message, hint: 'Check the kubeconfig file.' } };
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}
