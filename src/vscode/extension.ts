import * as vscode from 'vscode';
import { CoreError, type Result } from '../core/errors';
import { contextsOf, loadKubeConfig, type ContextInfo } from '../core/kube/kube-config';
import { CommandId, OUTPUT_CHANNEL_NAME } from './ids';

/** What the extension offers other extensions (and its tests): the core, without the UI. */
export interface InterceptApi {
  /** The kubeconfig's contexts as kubectl reads them; `kubeconfigEnv` stands for KUBECONFIG. */
  kubeContexts(kubeconfigEnv?: string): Result<ContextInfo[]>;
}

// activate only composes: it creates the parts and hands every disposable to the context.
export function activate(context: vscode.ExtensionContext): InterceptApi {
  const output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand(CommandId.showLog, () => output.show()),
  );
  output.info('Intercept activated');
  return {
    kubeContexts(kubeconfigEnv = process.env.KUBECONFIG) {
      try {
        return { ok: true, value: contextsOf(loadKubeConfig({ kubeconfigEnv })) };
      } catch (err) {
        if (err instanceof CoreError) return { ok: false, failure: err.failure };
        throw err;
      }
    },
  };
}

export async function deactivate(): Promise<void> {
  // Tunnels will be shut down here once sessions exist; nothing is pending yet.
}
