// What every command needs: the parsed options, the cluster client of the chosen context, the output,
// and the sidecar build this command line carries.
import path from 'node:path';
import { KubeClient } from '../core/kube/kube-client';
import { loadKubeConfig } from '../core/kube/kube-config';
import { loadSidecarBuild, type SidecarBuild } from '../core/session/sidecar-build';
import { VERSION } from '../core/version';
import type { Output } from './output';


export interface CommonOptions {
  readonly namespace?: string;
  readonly context?: string;
  readonly json: boolean;
}

export interface CommandContext {
  readonly options: CommonOptions;
  readonly out: Output;
  /** The client of the chosen context; loading the kubeconfig may fail with a typed error. */
  client(): KubeClient;
  namespace(client: KubeClient): string;
  sidecarBuild(): Promise<SidecarBuild>;
  /** Resolves when the user interrupts (Ctrl-C, SIGTERM). */
  readonly interrupted: Promise<void>;
  readonly signal: AbortSignal;
}

export function makeContext(options: CommonOptions, out: Output, signal: AbortSignal, interrupted: Promise<void>): CommandContext {
  let client: KubeClient | undefined;
  return {
    options,
    out,
    signal,
    interrupted,
    client() {
      client ??= new KubeClient(loadKubeConfig({ kubeconfigEnv: process.env.KUBECONFIG, ...(options.context ? { context: options.context } : {}) }));
      return client;
    },
    namespace(c) {
      return options.namespace ?? c.defaultNamespace;
    },
    sidecarBuild() {
      // Next to this file in the package: dist/cli.js → proxy-image/dist/intercept-proxy.js.
      const file = process.env.INTERCEPT_SIDECAR_FILE || path.resolve(__dirname, '..', 'proxy-image', 'dist', 'intercept-proxy.js');
      return loadSidecarBuild(file, VERSION);
    },
  };
}
