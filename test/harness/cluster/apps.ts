// Test workloads as teams write them: a Deployment (or StatefulSet) of the test app with a Service in
// front, in the shapes injection and restore must survive, and a local server standing for the
// program a developer debugs.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { loadSidecarBuild, type SidecarBuild } from '../../../src/core/session/sidecar-build.js';
import { repoRoot } from './kube.js';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Container, type V1EnvFromSource, type V1EnvVar, type V1Deployment, type V1DeploymentStrategy, type V1PodSecurityContext, type V1SecurityContext, type V1Service, type V1ServicePort } from '@kubernetes/client-node';

export interface AppShape {
  replicas?: number;
  /** The Service port's targetPort: a container port name, a number, or undefined (omitted). */
  targetPort?: string | number;
  /** The Service port; 8080 by default so an omitted targetPort reaches the app. */
  servicePort?: number;
  containerPort?: number;
  /** Containers before and after the app (sidecars of the team's own). */
  before?: V1Container[];
  after?: V1Container[];
  initContainers?: V1Container[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  extraServicePorts?: V1ServicePort[];
  strategy?: V1DeploymentStrategy;
  /** The pod's and the app container's securityContext. */
  podSecurityContext?: V1PodSecurityContext;
  securityContext?: V1SecurityContext;
  hostNetwork?: boolean;
  /** The app container's environment. */
  env?: V1EnvVar[];
  envFrom?: V1EnvFromSource[];
}

export async function createApp(kc: KubeConfig, namespace: string, name: string, shape: AppShape = {}): Promise<{ deployment: V1Deployment; service: V1Service }> {
  const containerPort = shape.containerPort ?? 8080;
  const labels = { app: name };
  const app: V1Container = {
    name: 'app',
    image: 'registry.example/shop:1',
    ports: [{ name: 'http', containerPort }],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' as never }, periodSeconds: 1 },
    ...(shape.securityContext ? { securityContext: shape.securityContext } : {}),
    ...(shape.env ? { env: shape.env } : {}),
    ...(shape.envFrom ? { envFrom: shape.envFrom } : {}),
  };
  const deployment = await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels: { ...labels, ...shape.labels }, ...(shape.annotations ? { annotations: shape.annotations } : {}) },
      spec: {
        replicas: shape.replicas ?? 1,
        selector: { matchLabels: labels },
        ...(shape.strategy ? { strategy: shape.strategy } : {}),
        template: {
          metadata: { labels },
          spec: {
            ...(shape.initContainers ? { initContainers: shape.initContainers } : {}),
            containers: [...(shape.before ?? []), app, ...(shape.after ?? [])],
            terminationGracePeriodSeconds: 5,
            ...(shape.podSecurityContext ? { securityContext: shape.podSecurityContext } : {}),
            ...(shape.hostNetwork ? { hostNetwork: true } : {}),
          },
        },
      },
    },
  });
  const port: V1ServicePort = { name: 'web', port: shape.servicePort ?? 8080, ...(shape.targetPort !== undefined ? { targetPort: shape.targetPort } : {}) };
  const service = await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace,
    body: { metadata: { name }, spec: { selector: labels, ports: [port, ...(shape.extraServicePorts ?? [])] } },
  });
  return { deployment, service };
}

/**
 * A raw TCP server behind a Service: a Deployment of the test app whose port speaks a line protocol
 * (each line answered `<pod> <line>`, see app-server.mjs), and Service `name` port `servicePort` to it.
 */
export async function createLineEchoApp(
  kc: KubeConfig,
  namespace: string,
  name: string,
  { servicePort = 7000, containerPort = 9000, replicas = 1 } = {},
): Promise<{ deployment: V1Deployment; service: V1Service }> {
  const labels = { app: name };
  const deployment = await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.example/line-echo:1',
                ports: [{ name: 'line', containerPort }],
                env: [{ name: 'APP_LINE_ECHO_PORTS', value: String(containerPort) }],
              },
            ],
            terminationGracePeriodSeconds: 5,
          },
        },
      },
    },
  });
  const service = await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace,
    body: { metadata: { name }, spec: { selector: labels, ports: [{ name: 'line', port: servicePort, targetPort: 'line' }] } },
  });
  return { deployment, service };
}

/** Sends one line over a byte stream and resolves with the first line that comes back; destroys the stream after. */
export async function exchangeLine(socket: Duplex, text: string, what: string, timeoutMs = 5_000): Promise<string> {
  try {
    return await new Promise<string>((resolve, reject) => {
      let got = '';
      const timer = setTimeout(() => reject(new Error(`no line back from ${what} within ${timeoutMs} ms (got ${JSON.stringify(got)})`)), timeoutMs);
      socket.on('data', (c: Buffer) => {
        got += c.toString();
        if (!got.includes('\n')) return;
        clearTimeout(timer);
        resolve(got.slice(0, got.indexOf('\n')));
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('end', () => {
        clearTimeout(timer);
        reject(new Error(`${what} closed the connection without a line (got ${JSON.stringify(got)})`));
      });
      socket.write(`${text}\n`);
    });
  } finally {
    socket.destroy();
  }
}

/** The program being debugged: answers `laptop:<name> <path>` with a Content-Length. */
export async function startLocalServer(name: string): Promise<{ port: number; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = `laptop:${name} ${req.url}`;
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Fields the cluster maintains, dropped before comparing objects for an exact restore. */
export function comparable<T extends { metadata?: object; status?: unknown }>(obj: T): unknown {
  const copy = structuredClone(obj) as Record<string, unknown> & { metadata?: Record<string, unknown> };
  delete copy.status;
  const m = copy.metadata ?? {};
  for (const k of ['resourceVersion', 'generation', 'managedFields']) delete m[k];
  const annotations = m.annotations as Record<string, string> | undefined;
  if (annotations) {
    delete annotations['deployment.kubernetes.io/revision'];
    if (Object.keys(annotations).length === 0) delete m.annotations;
  }
  return copy;
}

/** The sidecar build that `node scripts/build.mjs` made, with the package's version, as the command line ships it. */
export function builtSidecar(): Promise<SidecarBuild> {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return loadSidecarBuild(path.join(repoRoot, 'proxy-image', 'dist', 'intercept-proxy.js'), version);
}
