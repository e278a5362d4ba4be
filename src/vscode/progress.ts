// Long work in a cancellable notification: the token becomes an AbortSignal for the core, and the
// core's injection events become the notification's messages.
import * as vscode from 'vscode';
import type { InjectEvent } from '../core/session/injector';

export function withCancellableProgress<T>(title: string, work: (report: (message: string) => void, signal: AbortSignal) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress<T>({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      return await work((message) => progress.report({ message }), abort.signal);
    } finally {
      sub.dispose();
    }
  });
}

export function injectEventText(e: InjectEvent): string {
  switch (e.kind) {
    case 'step':
      return e.message;
    case 'rollout': {
      const p = e.progress;
      return `Rolling out: ${p.updated}/${p.desired} pods with the sidecar, ${p.ready} ready${e.stall ? ` (waiting: ${e.stall})` : ''}`;
    }
    case 'warning':
      return e.message;
  }
}
