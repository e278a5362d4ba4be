// PodRunner: makes the pods of test workloads real. kwok only marks pods Running; the runner watches
// the pods of one namespace (optionally a label selector) and, for each Running pod with an IP:
//   * creates the pod's network namespace (netns.ts) with 127.0.0.1 on its loopback, and puts it on
//     the cluster's pod network (pod-network.ts): `eth0` with the pod IP, a default route via the
//     network's gateway (Service ClusterIPs, through kube-proxy), and a resolv.conf naming the cluster
//     DNS with the pod's namespace first in its search list. A hostNetwork pod (its IP is a node's)
//     gets no place on the pod network: its IP is on its loopback, as before;
//   * sets up its volumes as a kubelet would (pod-volumes.ts): configMap and secret volumes are
//     written from the API server's objects into a folder per pod, emptyDir volumes are empty
//     folders, and every second the configMap and secret volumes of its pods are written again when
//     their objects changed. While a ConfigMap or Secret that is not optional is missing, the
//     containers do not start: the pod reports them waiting (ContainerCreating) and not ready,
//     failures() names the reason, and the runner starts them once the objects exist;
//   * starts each container as a local process inside the namespace:
//       - a container named `intercept-proxy` (the sidecar) runs exactly its command, args and env
//         from the pod spec; `node` is this Node, and paths under the container's volumeMounts are
//         rewritten to the host folders that hold those volumes (mount-paths.ts);
//       - any other container runs app-server.mjs, with the container's env, which answers with its
//         pod's name on each of the container's ports (8080 when it declares none);
//   * runs each container's readinessProbe (readiness-prober.ts) and writes the containers'
//     readiness and the pod's Ready condition through the status subresource (pod-status.ts);
//     kwok leaves pods with probes unready (scripts/cluster/kwok-stages), pods without are Ready;
//   * waits until the ports the containers declare (and the sidecar's command line or INTERCEPT_*
//     environment names) listen inside the namespace;
//   * creates a kwok PortForward object (same name as the pod), for every port then listening in the
//     pod plus `extraForwardPorts`, whose forwards run
//     `ip netns exec <ns> socat - TCP4:127.0.0.1:<port>`, so `pods/<pod>/portforward` through the API
//     server reaches these processes, like a kubelet forwarding into the pod's network namespace;
//     A probe forward (port 1, answered by `echo`) lets the runner wait until kwok knows the object;
//   * when the pod goes away (deleted, or deletion started) ends its processes and removes all that.
// stop() ends everything the runner started. Process output goes to
// .test-artifacts/cluster-pods/<namespace>.<pod>.<container>.log.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoreV1Api,
  CustomObjectsApi,
  Watch,
  type KubeConfig,
  type V1Container,
  type V1EnvVar,
  type V1Pod,
} from '@kubernetes/client-node';
import { connectInNetns, createNetns, deleteNetns, inNetns, listeningPorts, podNetnsName, socatCommand } from './netns.js';
import { attachToPodNetwork, detachFromPodNetwork } from './pod-network.js';
import { isNotFound, loadKubeConfig, repoRoot, waitFor } from './kube.js';
import { openPortForward } from './port-forward.js';
import { toHostPaths, type HostMount } from './mount-paths.js';
import { PodVolumes } from './pod-volumes.js';
import type { VolumeSources } from './volume-files.js';
import { readinessProbeOf } from './readiness-probe.js';
import { ReadinessProber } from './readiness-prober.js';
import { reportContainers, type ContainerReport } from './pod-status.js';
import type { Duplex } from 'node:stream';

export const SIDECAR_CONTAINER = 'intercept-proxy';
const APP_SERVER = path.join(repoRoot, 'test', 'harness', 'cluster', 'app-server.mjs');

export interface PodRunnerOptions {
  namespace: string;
  /** Only pods matching this label selector. */
  labelSelector?: string;
  kubeConfig?: KubeConfig;
  /** Ports to forward besides those listening when the pod became ready (a port opened later). */
  extraForwardPorts?: number[];
  /** How long a pod's processes may take to listen on their ports. */
  readyTimeoutMs?: number;
}

export interface RunningContainer {
  name: string;
  pid: number;
  /** Ports the runner waited for before calling the pod ready. */
  ports: number[];
  /** Where the container's volumeMounts are on the host. */
  mounts: HostMount[];
  logFile: string;
}

export interface RunningPod {
  name: string;
  namespace: string;
  uid: string;
  ip: string;
  node: string;
  netns: string;
  containers: RunningContainer[];
  /** Ports the pod's PortForward object forwards. */
  forwardPorts: number[];
}

interface PodEntry {
  uid: string;
  /** waiting: its volumes cannot be set up yet (the runner retries); failed: for good. */
  state: 'starting' | 'waiting' | 'running' | 'failed' | 'stopping';
  spec: V1Pod;
  pod?: RunningPod;
  volumes?: PodVolumes;
  children: ChildProcess[];
  logs: WriteStream[];
  probers: Map<string, ReadinessProber>;
  /** Status writes of this pod, one after the other. */
  reports: Promise<void>;
  error?: Error;
  work: Promise<void>;
}

/** How often the volumes of the runner's pods are compared with their ConfigMaps and Secrets. */
const VOLUME_RESYNC_MS = 1_000;

/** A port no container uses, forwarded to `echo`: proves kwok knows the pod's PortForward object. */
export const PROBE_PORT = 1;
const PROBE_ANSWER = 'intercept-harness-forward-ready';

async function readForward(kc: KubeConfig, namespace: string, pod: string): Promise<string> {
  const stream = await openPortForward(kc, namespace, pod, PROBE_PORT, 5_000);
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => stream.destroy(new Error('probe forward gave no answer within 5 s')), 5_000);
    const done = () => {
      clearTimeout(timer);
      stream.destroy();
      resolve(text);
    };
    stream.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes(PROBE_ANSWER)) done();
    });
    stream.on('end', done);
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** For a pod without configMap or secret volumes: nothing to read from the API server. */
const NO_SOURCES: VolumeSources = { configMap: () => undefined, secret: () => undefined };

const KWOK_GROUP = 'kwok.x-k8s.io';
const KWOK_VERSION = 'v1alpha1';

export class PodRunner {
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly entries = new Map<string, PodEntry>(); // by pod name
  private readonly errors: Error[] = [];
  private stopped = false;
  private watchAbort: AbortController | undefined;
  private watchLoop: Promise<void> = Promise.resolve();
  private volumeLoop: Promise<void> = Promise.resolve();
  private readonly loopAbort = new AbortController();
  private readonly logDir = path.join(repoRoot, '.test-artifacts', 'cluster-pods');

  private constructor(private readonly opts: PodRunnerOptions) {
    this.kc = opts.kubeConfig ?? loadKubeConfig();
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
  }

  /** Starts watching and running pods; resolves once the current pods have been seen. */
  static async start(opts: PodRunnerOptions): Promise<PodRunner> {
    const runner = new PodRunner(opts);
    mkdirSync(runner.logDir, { recursive: true });
    const rv = await runner.resync();
    runner.watchLoop = runner.watchForever(rv);
    runner.volumeLoop = runner.resyncVolumesForever();
    return runner;
  }

  get namespace(): string {
    return this.opts.namespace;
  }

  /** Pods whose processes are up and listening. */
  running(): RunningPod[] {
    return [...this.entries.values()].flatMap((e) => (e.state === 'running' && e.pod ? [e.pod] : []));
  }

  pod(name: string): RunningPod | undefined {
    const e = this.entries.get(name);
    return e?.state === 'running' ? e.pod : undefined;
  }

  /**
   * Pods whose processes could not start, with the reason; `retrying` when the runner starts them
   * once the cause is gone (a missing ConfigMap or Secret is created), as a kubelet does.
   */
  failures(): { pod: string; error: Error; retrying: boolean }[] {
    return [...this.entries.entries()].flatMap(([pod, e]) => (e.error ? [{ pod, error: e.error, retrying: e.state === 'waiting' }] : []));
  }

  /**
   * Waits until exactly `count` pods run (and no pod is still starting, waiting or stopping); fails
   * at once when a pod's processes could not start for good.
   */
  async waitForRunning(count: number, timeoutMs = 60_000): Promise<RunningPod[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = this.failures().filter((f) => !f.retrying);
      if (failed.length > 0) throw new PodStartError(failed);
      const busy = [...this.entries.values()].some((e) => e.state === 'starting' || e.state === 'waiting' || e.state === 'stopping');
      const running = this.running();
      if (!busy && running.length === count) return running;
      if (Date.now() >= deadline) {
        const states =
          [...this.entries.entries()].map(([n, e]) => `${n}=${e.state}${e.error ? ` (${e.error.message})` : ''}`).join(', ') || 'none';
        const errors = this.errors.length > 0 ? `; runner errors: ${this.errors.map((e) => e.message).join('; ')}` : '';
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} running pods in ${this.opts.namespace}; pods seen: ${states}${errors}`);
      }
      await sleep(100);
    }
  }

  /** A TCP connection to host:port inside a running pod's network namespace (host: 127.0.0.1 or the pod IP). */
  async connect(podName: string, port: number, host = '127.0.0.1'): Promise<Duplex> {
    const p = this.pod(podName);
    if (!p) throw new Error(`pod ${this.opts.namespace}/${podName} is not running under this runner`);
    return connectInNetns(p.netns, port, { host });
  }

  /** Ends every process the runner started and removes namespaces and PortForward objects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watchAbort?.abort();
    this.loopAbort.abort();
    await this.watchLoop;
    await this.volumeLoop;
    await Promise.all([...this.entries.keys()].map((name) => this.stopPod(name)));
  }

  // --- watching ---

  private async resync(): Promise<string> {
    const list = await this.core.listNamespacedPod({ namespace: this.opts.namespace, labelSelector: this.opts.labelSelector });
    const seen = new Set<string>();
    for (const pod of list.items) {
      seen.add(pod.metadata!.name!);
      this.onPod('MODIFIED', pod);
    }
    for (const name of this.entries.keys()) if (!seen.has(name)) void this.stopPod(name);
    return list.metadata?.resourceVersion ?? '';
  }

  private async watchForever(startRv: string): Promise<void> {
    let rv = startRv;
    const watch = new Watch(this.kc);
    // Runs until stop(); each round is one watch, restarted from a fresh list when it ends.
    while (!this.stopped) {
      const ended = new Promise<unknown>((resolve) => {
        watch
          .watch(
            `/api/v1/namespaces/${this.opts.namespace}/pods`,
            { labelSelector: this.opts.labelSelector, resourceVersion: rv, allowWatchBookmarks: true },
            (phase: string, obj: V1Pod) => {
              if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
              if (phase !== 'BOOKMARK') this.onPod(phase, obj);
            },
            resolve,
          )
          .then((abort) => {
            this.watchAbort = abort;
            if (this.stopped) abort.abort();
          })
          .catch(resolve);
      });
      await ended;
      if (this.stopped) break;
      await sleep(200);
      try {
        rv = await this.resync();
      } catch (err) {
        this.errors.push(err as Error);
      }
    }
  }

  private onPod(phase: string, pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (!name) return;
    const entry = this.entries.get(name);
    const gone = phase === 'DELETED' || !!pod.metadata?.deletionTimestamp;
    if (entry && (gone || entry.uid !== pod.metadata?.uid)) {
      void this.stopPod(name);
      return;
    }
    if (gone || entry || this.stopped) return;
    if (pod.status?.phase !== 'Running' || !pod.status.podIP || !pod.spec?.nodeName) return;
    const fresh: PodEntry = {
      uid: pod.metadata!.uid!,
      state: 'starting',
      spec: pod,
      children: [],
      logs: [],
      probers: new Map(),
      reports: Promise.resolve(),
      work: Promise.resolve(),
    };
    this.entries.set(name, fresh);
    fresh.work = this.failOnError(fresh, this.startPod(fresh, pod));
  }

  private failOnError(entry: PodEntry, work: Promise<void>): Promise<void> {
    return work.catch((err: unknown) => {
      if (entry.state !== 'starting') return; // the pod went away while starting: not a failure
      entry.error = err instanceof Error ? err : new Error(String(err));
      entry.state = 'failed';
    });
  }

  /** The namespace's ConfigMaps and Secrets, read now. */
  private async volumeSources(): Promise<VolumeSources> {
    const namespace = this.opts.namespace;
    const [configMaps, secrets] = await Promise.all([this.core.listNamespacedConfigMap({ namespace }), this.core.listNamespacedSecret({ namespace })]);
    const cm = new Map(configMaps.items.map((c) => [c.metadata!.name!, c]));
    const sec = new Map(secrets.items.map((c) => [c.metadata!.name!, c]));
    return { configMap: (n) => cm.get(n), secret: (n) => sec.get(n) };
  }

  /**
   * Every second: writes the volumes of running pods again where their ConfigMaps or Secrets
   * changed, and starts waiting pods whose volumes can now be set up.
   */
  private async resyncVolumesForever(): Promise<void> {
    while (!this.stopped) {
      await sleep(VOLUME_RESYNC_MS, undefined, { signal: this.loopAbort.signal }).catch(() => undefined);
      const due = [...this.entries.values()].filter(
        (e) => e.volumes?.fromApiServer && (e.state === 'waiting' || e.state === 'running'),
      );
      if (this.stopped || due.length === 0) continue;
      try {
        const sources = await this.volumeSources();
        for (const entry of due) {
          if (entry.state !== 'waiting' && entry.state !== 'running') continue;
          const problems = entry.volumes!.sync(sources);
          if (entry.state === 'waiting' && problems.length === 0) {
            entry.state = 'starting';
            entry.error = undefined;
            entry.work = this.failOnError(entry, this.startContainers(entry));
          }
        }
      } catch (err) {
        if (!this.stopped) this.errors.push(err as Error);
      }
    }
  }

  /** Sends the containers' state to the API server, after the pod's earlier reports. */
  private report(entry: PodEntry, reports: ContainerReport[]): Promise<void> {
    const { namespace, name } = entry.spec.metadata as { namespace: string; name: string };
    entry.reports = entry.reports
      .then(() => reportContainers(this.core, namespace, name, entry.uid, reports))
      .catch((err: unknown) => {
        this.errors.push(err as Error);
      });
    return entry.reports;
  }

  /** Readiness of each container as its probe last found it (ready when it has no probe). */
  private reportReadiness(entry: PodEntry): Promise<void> {
    const containers = entry.spec.spec!.containers;
    return this.report(
      entry,
      containers.map((c) => ({ name: c.name, ready: entry.probers.get(c.name)?.ready ?? true })),
    );
  }

  // --- one pod ---

  private async startPod(entry: PodEntry, pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    const netns = podNetnsName(entry.uid);
    const ip = pod.status!.podIP!;
    const hostNetwork = pod.spec?.hostNetwork === true;
    await createNetns(netns, hostNetwork ? ip : undefined);
    if (!hostNetwork) await attachToPodNetwork(netns, ip, namespace);
    entry.pod = { name, namespace, uid: entry.uid, ip, node: pod.spec!.nodeName!, netns, containers: [], forwardPorts: [] };
    // Probes the runner cannot run fail the pod before anything starts.
    for (const c of pod.spec!.containers) readinessProbeOf(c);

    entry.volumes = new PodVolumes(pod, path.join(this.logDir, `${namespace}.${name}.volumes`));
    const problems = entry.volumes.fromApiServer ? entry.volumes.sync(await this.volumeSources()) : entry.volumes.sync(NO_SOURCES);
    if (problems.length > 0) {
      if (entry.state !== 'starting') return;
      entry.state = 'waiting';
      entry.error = new Error(`pod ${namespace}/${name}: containers not started: ${problems.join('; ')}`);
      const waiting = { reason: 'ContainerCreating', message: problems.join('; ') };
      await this.report(
        entry,
        pod.spec!.containers.map((c) => ({ name: c.name, ready: false, waiting })),
      );
      return;
    }
    await this.startContainers(entry);
  }

  private async startContainers(entry: PodEntry): Promise<void> {
    const pod = entry.spec;
    const running = entry.pod!;
    const { name, namespace, netns } = running;
    const forward = new Set<number>(this.opts.extraForwardPorts ?? []);
    for (const c of pod.spec!.containers) {
      if (entry.state !== 'starting') return;
      const mounts = entry.volumes!.mounts(c);
      const { cmd, args, env, ports } = this.containerProcess(pod, c, mounts);
      const logFile = path.join(this.logDir, `${namespace}.${name}.${c.name}.log`);
      const log = createWriteStream(logFile);
      entry.logs.push(log);
      const [ipCmd, ipArgs] = inNetns(netns, cmd, args);
      const child = spawn(ipCmd, ipArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      entry.children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      running.containers.push({ name: c.name, pid: child.pid!, ports, mounts, logFile });
      for (const p of ports) forward.add(p);
    }
    // Ready when every port the containers declare (or the sidecar's command line names) listens.
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? 20_000);
    let listening = new Set<number>();
    for (;;) {
      if (entry.state !== 'starting') return;
      running.containers.forEach((c, i) => {
        const child = entry.children[i]!;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`container ${c.name} of pod ${name} exited (${child.exitCode ?? child.signalCode}); see ${c.logFile}`);
        }
      });
      listening = await listeningPorts(netns);
      const missing = running.containers.flatMap((c) => c.ports.filter((p) => !listening.has(p)).map((p) => `${c.name}:${p}`));
      if (missing.length === 0) break;
      if (Date.now() > deadline) throw new Error(`pod ${name}: nothing listens on ${missing.join(', ')}; see the logs in ${this.logDir}`);
      await sleep(50);
    }
    // Forward every port that listens in the pod (a sidecar's default ports too), as a kubelet would.
    for (const p of listening) forward.add(p);
    running.forwardPorts = [...forward].sort((a, b) => a - b);

    await this.custom.createNamespacedCustomObject({
      group: KWOK_GROUP,
      version: KWOK_VERSION,
      namespace,
      plural: 'portforwards',
      body: {
        apiVersion: `${KWOK_GROUP}/${KWOK_VERSION}`,
        kind: 'PortForward',
        metadata: {
          name,
          namespace,
          // Garbage-collected with the pod should the runner not get to remove it.
          ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid: entry.uid }],
        },
        spec: {
          forwards: [
            ...running.forwardPorts.map((p) => ({ ports: [p], command: socatCommand(netns, p) })),
            { ports: [PROBE_PORT], command: ['echo', PROBE_ANSWER] },
          ],
        },
      },
    });

    // kwok learns of the PortForward object through a watch: the pod counts as running once a
    // port-forward through the API server reaches the probe forward, so no test races that watch.
    await waitFor(
      `port-forward to pod ${namespace}/${name} through the API server`,
      async () => (entry.state !== 'starting' ? true : (await readForward(this.kc, namespace, name)).includes(PROBE_ANSWER)),
      { timeoutMs: Math.max(1_000, deadline - Date.now()), everyMs: 100 },
    );
    if (entry.state !== 'starting') return;
    entry.state = 'running';
    for (const c of pod.spec!.containers) {
      const probe = readinessProbeOf(c);
      if (!probe) continue;
      const prober = new ReadinessProber(probe, netns, running.ip, () => void this.reportReadiness(entry));
      entry.probers.set(c.name, prober);
      prober.start();
    }
    // Containers without probes are ready now (kwok said so already unless the pod waited for volumes).
    await this.reportReadiness(entry);
  }

  private async stopPod(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || entry.state === 'stopping') return entry?.work;
    entry.state = 'stopping';
    const previous = entry.work;
    entry.work = (async () => {
      await previous.catch(() => undefined);
      await Promise.all([...entry.probers.values()].map((p) => p.stop()));
      await entry.reports;
      // As a kubelet: SIGTERM, then the pod's termination grace period before SIGKILL.
      const graceMs = (entry.spec.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
      await Promise.all(entry.children.map((c) => endProcess(c, graceMs)));
      for (const l of entry.logs) l.end();
      entry.volumes?.remove();
      if (entry.pod) {
        await this.custom
          .deleteNamespacedCustomObject({ group: KWOK_GROUP, version: KWOK_VERSION, namespace: entry.pod.namespace, plural: 'portforwards', name })
          .catch((err: unknown) => {
            if (!isNotFound(err)) this.errors.push(err as Error);
          });
      }
      const netns = entry.pod?.netns ?? podNetnsName(entry.uid);
      await deleteNetns(netns);
      detachFromPodNetwork(netns);
      this.entries.delete(name);
    })();
    return entry.work;
  }

  /** Command line, environment and listening ports of one container's local process. */
  private containerProcess(
    pod: V1Pod,
    c: V1Container,
    mounts: HostMount[],
  ): { cmd: string; args: string[]; env: NodeJS.ProcessEnv; ports: number[] } {
    const declared = (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort);
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOSTNAME: pod.metadata!.name,
      POD_NAME: pod.metadata!.name,
      POD_NAMESPACE: pod.metadata!.namespace,
      CONTAINER_NAME: c.name,
    };
    const env: NodeJS.ProcessEnv = { ...base };
    for (const [k, v] of Object.entries(resolveEnv(pod, c.env ?? []))) env[k] = toHostPaths(v ?? '', mounts);
    if (c.name !== SIDECAR_CONTAINER) {
      const ports = declared.length > 0 ? declared : [8080];
      return { cmd: process.execPath, args: [APP_SERVER], env: { ...env, APP_PORTS: ports.join(',') }, ports };
    }
    const expand = (s: string) => s.replace(/\$\((\w+)\)/g, (m, v: string) => env[v] ?? m);
    const line = [...(c.command ?? []), ...(c.args ?? [])].map(expand).map((s) => toHostPaths(s, mounts));
    if (line.length === 0) throw new Error(`container ${SIDECAR_CONTAINER} of ${pod.metadata!.name} has no command`);
    const [cmd0, ...args] = line;
    const cmd = cmd0 === 'node' || cmd0!.endsWith('/node') ? process.execPath : cmd0!;
    return { cmd, args, env, ports: [...new Set([...declared, ...portsInArgs(args), ...portsInEnv(env)])] };
  }
}

export class PodStartError extends Error {
  constructor(readonly failed: { pod: string; error: Error }[]) {
    super(`pods failed to start: ${failed.map((f) => `${f.pod}: ${f.error.message}`).join('; ')}`);
  }
}

/** Ports a command line says it listens on: `--listen [host:]p[:q]` and `--<anything>-port N` (also `=N`). */
export function portsInArgs(args: string[]): number[] {
  const ports: number[] = [];
  const num = (s: string | undefined) => (s && /^\d{1,5}$/.test(s) ? Number(s) : undefined);
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split('=', 2) as [string, string | undefined];
    const value = inline ?? args[i + 1];
    if (flag === '--listen' && value) {
      // --listen <port>:<appPort>: the sidecar listens on the first; the second is the app's.
      const first = num(value.split(':').find((part) => num(part) !== undefined));
      if (first) ports.push(first);
    } else if (/^--[\w-]*port$/.test(flag)) {
      const p = num(value);
      if (p) ports.push(p);
    }
  }
  return ports;
}

/** Ports the sidecar's environment names: INTERCEPT_LISTEN (<p>:<app>,...) and INTERCEPT_*_PORT. */
export function portsInEnv(env: NodeJS.ProcessEnv): number[] {
  const ports: number[] = [];
  for (const item of (env.INTERCEPT_LISTEN ?? '').split(',')) {
    const m = /^\s*(\d{1,5}):\d{1,5}\s*$/.exec(item);
    if (m) ports.push(Number(m[1]));
  }
  for (const [k, v] of Object.entries(env)) {
    if (/^INTERCEPT_\w+_PORT$/.test(k) && v && /^\d{1,5}$/.test(v)) ports.push(Number(v));
  }
  return ports;
}

function resolveEnv(pod: V1Pod, vars: V1EnvVar[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.podIP': pod.status?.podIP,
    'status.hostIP': pod.status?.hostIP,
  };
  for (const v of vars) {
    if (v.value !== undefined) out[v.name] = v.value.replace(/\$\((\w+)\)/g, (m, n: string) => out[n] ?? m);
    else if (v.valueFrom?.fieldRef) out[v.name] = fields[v.valueFrom.fieldRef.fieldPath] ?? '';
    else out[v.name] = '';
  }
  return out;
}

async function endProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
