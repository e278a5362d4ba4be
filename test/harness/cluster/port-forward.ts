// The tests open port-forwards with the extension's own implementation (src/core/kube/port-forward),
// given the test cluster's kubeconfig.
import type { Duplex } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { openPortForward as open, type ApiServerAccess } from '../../../src/core/kube/port-forward.js';

export function apiServerAccess(kc: KubeConfig): ApiServerAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  return { server: cluster.server, applyTo: (options: WebSocket.ClientOptions) => kc.applyToHTTPSOptions(options) };
}

/** Opens a port-forward to `port` of pod `namespace/pod` through the test cluster's API server. */
export function openPortForward(kc: KubeConfig, namespace: string, pod: string, port: number, timeoutMs = 15_000): Promise<Duplex> {
  return open(apiServerAccess(kc), namespace, pod, port, timeoutMs);
}
