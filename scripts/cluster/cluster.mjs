// The test cluster: a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
// and kwok (fake nodes; marks pods Running; serves the kubelet API for port-forward), run by
// `kwokctl --runtime binary` from the binaries of build.mjs, everything bound to 127.0.0.1; and a pod
// network in a network namespace of its own, with kube-proxy and CoreDNS (pod-network.mjs).
//
//   node scripts/cluster/cluster.mjs up     (npm run cluster:up)
//   node scripts/cluster/cluster.mjs down   (npm run cluster:down)
//
// State (data, certificates, logs, kubeconfig) lives in .test-artifacts/cluster/ (gitignored), or in
// $INTERCEPT_CLUSTER_STATE. The kubeconfig is <state>/kubeconfig. `up` first takes down a cluster left
// from an earlier run. `down` ends every process of the cluster, checks that none of their ports is
// still listening, removes the pod network and the network namespaces pods left behind, and deletes
// the state (logs are kept in .test-artifacts/cluster-logs/).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { binaryPath, ensureBinaries } from './build.mjs';
import {
  POD_NETWORK,
  createNetworkNamespace,
  kubeDnsObjects,
  networkDir,
  networkNotReady,
  networkPids,
  nodeAddress,
  nodePodCIDR,
  removeStaleNetnsConfig,
  signalNetworkComponents,
  startNetworkComponents,
  writeNetworkResolvConf,
} from './pod-network.mjs';
import { ensureRoot, ensureTools } from './tools.mjs';
import { binDir, kubeconfigPath, repoRoot, stateDir } from './versions.mjs';

export const CLUSTER_NAME = 'intercept';
/** Prefix of the network namespaces the pod runner creates (and of the pod network's); `down` removes them. */
export const NETNS_PREFIX = 'intercept-pod-';
export const NODE_COUNT = 2;

const kwokWorkdir = () => path.join(stateDir(), 'kwok');
const clusterDir = () => path.join(kwokWorkdir(), 'clusters', CLUSTER_NAME);
const recordPath = () => path.join(stateDir(), 'cluster.json');

function log(msg) {
  console.log(`[cluster] ${msg}`);
}

function run(cmd, args, { timeout = 120_000, input, env, quiet = false } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout,
    input,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ok = r.status === 0;
  if (!ok && !quiet) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${path.basename(cmd)} ${args.join(' ')}: ${why}\n${r.stdout ?? ''}${r.stderr ?? ''}`.trim());
  }
  return { ok, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Poll `check` every `everyMs` until it returns a truthy value; throw `what` after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? `: ${last.message.split('\n')[0]}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${detail}`);
    }
    await sleep(everyMs);
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

/** Listening TCP sockets as [{ port, pids }], from `ss`. */
export function listeningSockets() {
  const out = run('ss', ['-Hltnp']).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      const local = cols[3] ?? '';
      const port = Number(local.slice(local.lastIndexOf(':') + 1));
      const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      return { local, port, pids };
    });
}

// Both keep their files in the state folder, not in ~/.kwok or ~/.kube.
const kubeCacheDir = () => path.join(stateDir(), 'kube-cache');

function kwokctl(bin, args, opts = {}) {
  return run(path.join(bin, 'kwokctl'), args, { ...opts, env: { KWOK_WORKDIR: kwokWorkdir(), KUBECACHEDIR: kubeCacheDir(), ...opts.env } });
}

function kubectl(bin, args, opts = {}) {
  return run(path.join(bin, 'kubectl'), ['--kubeconfig', kubeconfigPath(), '--cache-dir', kubeCacheDir(), ...args], opts);
}

function clusterPids() {
  // kwokctl records one pid file per component under the cluster's folder.
  const pids = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.pid')) {
        const pid = Number(readFileSync(p, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0) pids.push({ component: e.name.replace(/\.pid$/, ''), pid });
      }
    }
  };
  walk(clusterDir());
  return pids;
}

function netnsLeftovers() {
  const r = run('ip', ['netns', 'list'], { quiet: true });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n && n.startsWith(NETNS_PREFIX));
}

/** kwok's Stages for nodes and pods (see kwok-stages/README.md): pods with readiness probes start unready. */
function kwokStages() {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kwok-stages');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

function kwokctlConfig(bin) {
  const b = (name) => path.join(bin, name);
  // YAML documents: the kwokctl configuration (JSON is YAML), then the Stages kwok runs.
  const options = JSON.stringify({
    apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
    kind: 'KwokctlConfiguration',
    options: {
      runtime: 'binary',
      bindAddress: '127.0.0.1',
      kubeApiserverBinary: b('kube-apiserver'),
      kubeControllerManagerBinary: b('kube-controller-manager'),
      kubeSchedulerBinary: b('kube-scheduler'),
      kubectlBinary: b('kubectl'),
      etcdBinary: b('etcd'),
      kwokControllerBinary: b('kwok'),
      cacheDir: path.join(stateDir(), 'cache'),
      enableCRDs: ['PortForward', 'ClusterPortForward'],
      kubeAuthorization: true,
      kubeAdmission: true,
      securePort: true,
    },
    componentsPatches: [
      {
        // The apiserver publishes this address as the endpoint of Service default/kubernetes; left
        // alone it would pick the machine's own interface (loopback is not allowed there). A
        // documentation address (RFC 5737) that no machine owns keeps the machine's addresses out of
        // the cluster; nothing in the tests connects to it.
        name: 'kube-apiserver',
        extraArgs: [
          { key: 'advertise-address', value: '203.0.113.1' },
          // Its default (10.0.0.0/24) is also kwok's default pod range; see pod-network.mjs.
          { key: 'service-cluster-ip-range', value: POD_NETWORK.serviceCIDR },
        ],
      },
    ],
  });
  return [options, ...kwokStages()].join('\n---\n');
}

function nodeManifest(i) {
  const name = `kwok-node-${i}`;
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    // kwok gives the node's pods IPs from its podCIDR (the pod network's addresses, pod-network.mjs).
    spec: { podCIDR: nodePodCIDR(i), podCIDRs: [nodePodCIDR(i)] },
    // kube-proxy needs its node's IP; kwok's stages keep addresses a node has (and add Hostname).
    status: { allocatable: resources, capacity: resources, addresses: [{ type: 'InternalIP', address: nodeAddress(i) }] },
  };
}

async function waitUntilReady(bin) {
  await waitFor('kube-apiserver /readyz', () => kubectl(bin, ['get', '--raw', '/readyz'], { quiet: true, timeout: 10_000 }).ok, {
    timeoutMs: 90_000,
  });
  const nodes = Array.from({ length: NODE_COUNT }, (_, i) => nodeManifest(i));
  kubectl(bin, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }) });
  await waitFor(
    `${NODE_COUNT} Ready nodes`,
    () => {
      const r = kubectl(bin, ['get', 'nodes', '-o', 'json'], { quiet: true, timeout: 10_000 });
      if (!r.ok) return false;
      const ready = JSON.parse(r.stdout).items.filter((n) =>
        (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length >= NODE_COUNT;
    },
    { timeoutMs: 60_000 },
  );
  await waitFor(
    'ServiceAccount default/default (created by kube-controller-manager)',
    () => kubectl(bin, ['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'], { quiet: true, timeout: 10_000 }).ok,
    { timeoutMs: 90_000 },
  );
}

/** The API server's port on 127.0.0.1, from the kubeconfig kwokctl wrote. */
function apiServerPort() {
  const m = /server:\s*https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(kubeconfigPath(), 'utf8'));
  if (!m) throw new Error(`no https://127.0.0.1:<port> server in ${kubeconfigPath()}`);
  return Number(m[1]);
}

/** The pod network: its namespace and bridge, kube-proxy, CoreDNS and Service kube-system/kube-dns. */
async function startPodNetwork(bin) {
  createNetworkNamespace(NODE_COUNT);
  writeNetworkResolvConf();
  const started = startNetworkComponents({
    state: stateDir(),
    kubeconfig: kubeconfigPath(),
    apiPort: apiServerPort(),
    kubeProxyBinary: path.join(bin, 'kube-proxy'),
    corednsBinary: binaryPath('coredns'),
  });
  kubectl(bin, ['apply', '-f', '-'], { input: JSON.stringify(kubeDnsObjects()) });
  await waitFor(
    'the pod network (kube-proxy, CoreDNS, kube-dns)',
    () => {
      for (const { component, pid } of started) {
        if (!alive(pid)) throw new Error(`${component} exited; see ${path.join(networkDir(stateDir()), 'logs', `${component}.log`)}`);
      }
      const missing = networkNotReady();
      if (missing) throw new Error(`waiting for ${missing}`);
      return true;
    },
    { timeoutMs: 60_000, everyMs: 250 },
  );
}

export async function up() {
  const started = Date.now();
  ensureRoot();
  ensureTools(log);
  const tBuild = Date.now();
  const bin = ensureBinaries();
  log(`binaries ready after ${((Date.now() - tBuild) / 1000).toFixed(1)} s`);
  if (existsSync(stateDir())) {
    log('a cluster (or its state) from an earlier run exists: taking it down first');
    await down();
  }
  mkdirSync(stateDir(), { recursive: true });
  // Pod process logs of the previous run (written by the pod runner of test/harness/cluster).
  rmSync(path.join(repoRoot, '.test-artifacts', 'cluster-pods'), { recursive: true, force: true });
  const config = path.join(stateDir(), 'kwokctl.yaml');
  writeFileSync(config, `${kwokctlConfig(bin)}\n`);

  const tUp = Date.now();
  log('starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok');
  try {
    // --kubeconfig: kwokctl would otherwise add the cluster to ~/.kube/config.
    kwokctl(bin, ['create', 'cluster', '--name', CLUSTER_NAME, '--config', config, '--kubeconfig', kubeconfigPath(), '--wait', '2m'], {
      timeout: 180_000,
    });
  } catch (err) {
    const logs = path.join(clusterDir(), 'logs');
    await down().catch((e) => log(`down failed too: ${e.message}`));
    throw new Error(`kwokctl create cluster failed; logs kept in ${path.join(path.dirname(stateDir()), 'cluster-logs')} (were ${logs})\n${err.message}`);
  }

  try {
    await waitUntilReady(bin);
    const tNet = Date.now();
    await startPodNetwork(bin);
    log(`pod network up in ${((Date.now() - tNet) / 1000).toFixed(1)} s`);
  } catch (err) {
    log(`the cluster did not come up; taking it down (its logs are kept in ${path.join(path.dirname(stateDir()), 'cluster-logs')})`);
    await down().catch((e) => log(`down failed too: ${e.message}`));
    throw err;
  }

  const pids = [...clusterPids(), ...networkPids(stateDir())];
  const pidSet = new Set(pids.map((p) => p.pid));
  const ports = listeningSockets().filter((s) => s.pids.some((p) => pidSet.has(p)));
  const nonLoopback = ports.filter((s) => !/^(127\.|\[::1\]|\[::ffff:127\.)/.test(s.local));
  writeFileSync(
    recordPath(),
    `${JSON.stringify(
      {
        kubeconfig: kubeconfigPath(),
        pids,
        ports: ports.map((s) => s.local),
        // What the pod runner needs to attach pods (test/harness/cluster/pod-network.ts).
        network: {
          ...POD_NETWORK,
          nodePodCIDRs: Array.from({ length: NODE_COUNT }, (_, i) => nodePodCIDR(i)),
          nodeAddresses: Array.from({ length: NODE_COUNT }, (_, i) => nodeAddress(i)),
        },
        startedAt: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  if (nonLoopback.length > 0) {
    await down();
    throw new Error(`cluster listened beyond loopback: ${nonLoopback.map((s) => s.local).join(', ')}`);
  }
  log(`cluster up in ${((Date.now() - tUp) / 1000).toFixed(1)} s (total ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  log(`processes: ${pids.map((p) => `${p.component}=${p.pid}`).join(' ')}`);
  log(`listening: ${ports.map((s) => s.local).join(' ')}`);
  log(`kubeconfig: ${kubeconfigPath()}`);
  return { kubeconfig: kubeconfigPath() };
}

/** Pids and listening ports a cluster recorded at `up`, or null. */
export function clusterRecord() {
  return existsSync(recordPath()) ? JSON.parse(readFileSync(recordPath(), 'utf8')) : null;
}

export async function down() {
  const record = clusterRecord();
  const pids = new Map([...(record?.pids ?? []), ...clusterPids(), ...networkPids(stateDir())].map((p) => [p.pid, p.component]));
  const ports = new Set(record?.ports ?? []);
  // Also what the processes listen on now (a cluster whose `up` failed has no record).
  for (const s of listeningSockets()) if (s.pids.some((p) => pids.has(p))) ports.add(s.local);

  // kube-proxy, CoreDNS and the relay first: they follow the API server and would only log its end.
  signalNetworkComponents(stateDir());

  const kwokctlBinary = path.join(binDir(), 'kwokctl');
  if (existsSync(clusterDir()) && existsSync(kwokctlBinary)) {
    const bin = binDir();
    const args = ['delete', 'cluster', '--name', CLUSTER_NAME, '--kubeconfig', kubeconfigPath()];
    const r = kwokctl(bin, args, { quiet: true, timeout: 120_000 });
    if (!r.ok) log(`kwokctl delete cluster failed, ending the processes directly:\n${r.stdout}${r.stderr}`);
  }

  // The pod network's namespace, and pods' namespaces left by a test that could not clean up: end
  // their processes, then the namespace.
  for (const ns of netnsLeftovers()) {
    const inside = run('ip', ['netns', 'pids', ns], { quiet: true })
      .stdout.split('\n')
      .map(Number)
      .filter((p) => p > 0);
    for (const pid of inside) pids.set(pid, `process in ${ns}`);
    for (const pid of inside) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    run('ip', ['netns', 'delete', ns], { quiet: true });
    log(ns === POD_NETWORK.netns ? `removed the pod network (${ns})` : `removed network namespace ${ns} left by a test`);
  }
  // Their resolv.conf files (`ip netns delete` leaves /etc/netns/<name>).
  removeStaleNetnsConfig(NETNS_PREFIX, netnsLeftovers());

  // Bounded wait for the recorded processes; what does not go on its own is killed, by pid.
  const remaining = () => [...pids.keys()].filter(alive);
  try {
    await waitFor('cluster processes to exit', () => remaining().length === 0, { timeoutMs: 15_000, everyMs: 200 });
  } catch {
    signalNetworkComponents(stateDir(), 'SIGKILL');
    for (const pid of remaining()) {
      log(`killing ${pids.get(pid)} (pid ${pid})`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await waitFor('killed cluster processes to exit', () => remaining().length === 0, { timeoutMs: 10_000, everyMs: 100 });
  }
  await waitFor(
    `ports ${[...ports].join(', ') || '(none)'} to close`,
    () => !listeningSockets().some((s) => ports.has(s.local)),
    { timeoutMs: 10_000, everyMs: 200 },
  );

  if (existsSync(stateDir())) {
    const logs = path.join(clusterDir(), 'logs');
    const networkLogs = path.join(networkDir(stateDir()), 'logs');
    const keep = path.join(path.dirname(stateDir()), 'cluster-logs');
    if (existsSync(logs) || existsSync(networkLogs)) rmSync(keep, { recursive: true, force: true });
    if (existsSync(logs)) cpSync(logs, keep, { recursive: true });
    if (existsSync(networkLogs)) cpSync(networkLogs, path.join(keep, 'network'), { recursive: true });
    rmSync(stateDir(), { recursive: true, force: true });
  }
  log('cluster down: no process and no port left');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const cmd = process.argv[2];
  const actions = { up, down };
  if (!(cmd in actions)) {
    console.error('usage: node scripts/cluster/cluster.mjs up|down');
    process.exit(2);
  }
  try {
    await actions[cmd]();
  } catch (err) {
    console.error(`[cluster] ${cmd} failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

