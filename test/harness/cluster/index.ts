// The test cluster harness: what tests of Intercept use to run against the real control plane that
// `npm run cluster:up` starts (see docs/testing.md, "The test cluster").
//
//   kubeconfigPath(): string                        the cluster's kubeconfig
//   loadKubeConfig(file?): KubeConfig
//   waitFor(what, check, { timeoutMs, everyMs })    bounded polling, clear timeout errors
//   createTestNamespace(kc, prefix) / deleteNamespace(kc, name, { wait })
//   kubeConfigForServiceAccount(kc, namespace, name): Promise<KubeConfig>   for RBAC tests
//   PodRunner.start({ namespace, labelSelector?, extraForwardPorts? })
//     .waitForRunning(count, timeoutMs) / .running() / .pod(name) / .failures()
//     .connect(pod, port, host?) / .stop()
//     (volumes from ConfigMaps and Secrets, readiness from readinessProbes: see pod-runner.ts)
//   requestService(namespace, service, port, { method, path, headers, body, pod?, timeoutMs })
//   connectService(namespace, service, port, opts) / resolveService(...) / serviceTargets(...)
//   waitForServiceEndpoints(namespace, service, port, count, opts)  EndpointSlices lag behind pods
//   openPortForward(kc, namespace, pod, port): Promise<Duplex>   (the extension's port-forward, src/core/kube)
//   connectInNetns(netns, port, { host }) / lookupInNetns(netns, name)   as a process in a pod connects
//                               and resolves (ClusterIPs through kube-proxy, names through CoreDNS)
//   clusterNetwork()            the pod network's addresses (pod and Service ranges, DNS)
export {
  kubeconfigPath,
  loadKubeConfig,
  waitFor,
  createTestNamespace,
  deleteNamespace,
  isNotFound,
  kubeConfigForServiceAccount,
  repoRoot,
} from './kube.js';
export type { WaitOptions } from './kube.js';
export { PodRunner, PodStartError, SIDECAR_CONTAINER, portsInArgs } from './pod-runner.js';
export type { PodRunnerOptions, RunningPod, RunningContainer } from './pod-runner.js';
export { requestService, httpOverStream, connectService, resolveService, serviceTargets, waitForServiceEndpoints } from './service.js';
export type { StreamRequest, StreamResponse, ServiceRequestOptions, ServiceResponse, ServiceTarget, ServiceConnectOptions } from './service.js';
export { openPortForward, apiServerAccess } from './port-forward.js';
export { connectInNetns, lookupInNetns, podNetnsName, NETNS_PREFIX } from './netns.js';
export type { LookupResult } from './netns.js';
export { clusterNetwork } from './pod-network.js';
export type { ClusterNetwork } from './pod-network.js';
export type { HostMount } from './mount-paths.js';
