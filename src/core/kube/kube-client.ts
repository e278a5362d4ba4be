// The API clients of one context, made once and passed to whatever needs the cluster.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { apiCall, type ApiAction } from './api-errors';
import { contextNamespace, serverOf } from './kube-config';
import type { ApiServerAccess } from './port-forward';

export class KubeClient {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly networking: NetworkingV1Api;
  readonly server: string;
  readonly context: string;
  /** The context's own namespace, the default for every call. */
  readonly defaultNamespace: string;

  constructor(readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.server = serverOf(kc);
    this.context = kc.getCurrentContext();
    this.defaultNamespace = contextNamespace(kc);
  }

  /** Runs one call; its failure becomes a typed CoreError naming `action`. */
  call<T>(action: ApiAction, fn: () => Promise<T>): Promise<T> {
    return apiCall(action, this.server, fn);
  }

  /** What port-forward needs: the server and the credentials of this context. */
  apiServerAccess(): ApiServerAccess {
    return { server: this.server, applyTo: (options: WebSocket.ClientOptions) => this.kc.applyToHTTPSOptions(options) };
  }
}
