// The test cluster's pod network, made by `up` and removed by `down` (cluster.mjs):
//
//   * a network namespace of its own (POD_NETWORK.netns) holding a bridge whose address is the pod
//     network's gateway; the pod runner (test/harness/cluster/pod-network.ts) gives each pod a veth
//     whose other end is a port of this bridge, the pod IP on the pod's `eth0` and a default route
//     via the gateway;
//   * kube-proxy in that namespace (nftables mode): Service ClusterIPs are DNAT'ed to ready endpoints
//     there, as pods' packets to them reach the gateway;
//   * CoreDNS in that namespace, at its own address on the bridge, with its kubernetes plugin;
//     Service kube-system/kube-dns (ClusterIP POD_NETWORK.dnsServiceIP) points at it;
//   * a relay that lets both reach the API server, which listens on the host's 127.0.0.1: a unix
//     socket in the state folder (host: socat UNIX-LISTEN -> the API server; inside the namespace:
//     socat TCP-LISTEN 127.0.0.1:<the API server's port> -> that socket). The kubeconfig of the host
//     therefore works inside the namespace unchanged. Nothing listens on the host beyond the socket.
//
// Addresses: kwok hands out pod IPs from each node's spec.podCIDR starting at .1 (cluster.mjs gives
// node i POD_NETWORK.nodePodCIDR(i)), so 10.244.0.0/24 is free for the network itself: the gateway
// and CoreDNS. Services get ClusterIPs from the API server's --service-cluster-ip-range (its default,
// 10.0.0.0/24, is kwok's default pod range, hence both are set).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const POD_NETWORK = Object.freeze({
  /** Named with the pod namespaces' prefix (cluster.mjs NETNS_PREFIX): `down` removes it with them. */
  netns: 'intercept-pod-network',
  bridge: 'cbr0',
  clusterCIDR: '10.244.0.0/16',
  prefixLength: 16,
  gateway: '10.244.0.1',
  dnsAddress: '10.244.0.2',
  serviceCIDR: '10.96.0.0/16',
  dnsServiceIP: '10.96.0.10',
  clusterDomain: 'cluster.local',
});

/** Pod range of kwok node i (kwok allocates from .1 of it). */
export function nodePodCIDR(i) {
  return `10.244.${i + 1}.0/24`;
}

/**
 * InternalIP of kwok node i: documentation addresses (RFC 5737) that exist only on the bridge of the
 * pod network's namespace, which plays the nodes' own network (kube-proxy there accepts NodePorts on
 * them). A node without one makes kube-proxy wait 30 s for it at start.
 */
export function nodeAddress(i) {
  return `198.51.100.${i + 1}`;
}

const KUBE_PROXY_HEALTHZ = '127.0.0.1:10256';
const COREDNS_READY = '127.0.0.1:8181';
const COREDNS_HEALTH = '127.0.0.1:8080';

function sh(cmd, args, { quiet = false, timeout = 30_000, input } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout, input, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.status !== 0 && !quiet) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${r.stdout ?? ''}${r.stderr ?? ''}`.trim());
  }
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const inNetwork = (cmd, args, opts) => sh('ip', ['netns', 'exec', POD_NETWORK.netns, cmd, ...args], opts);

/** Folder of the network's files inside the cluster's state: configs, the relay's socket, pids, logs. */
export const networkDir = (state) => path.join(state, 'network');
const pidFile = (state, component) => path.join(networkDir(state), `${component}.pid`);

/** The namespace, its bridge, and the kernel settings routing and Service NAT need there. */
export function createNetworkNamespace(nodeCount) {
  const { netns, bridge, gateway, dnsAddress, prefixLength, serviceCIDR } = POD_NETWORK;
  sh('ip', ['netns', 'add', netns]);
  const ipn = (...args) => sh('ip', ['-n', netns, ...args]);
  ipn('link', 'set', 'lo', 'up');
  ipn('link', 'add', bridge, 'type', 'bridge');
  ipn('addr', 'add', `${gateway}/${prefixLength}`, 'dev', bridge);
  ipn('addr', 'add', `${dnsAddress}/${prefixLength}`, 'dev', bridge);
  for (let i = 0; i < nodeCount; i++) ipn('addr', 'add', `${nodeAddress(i)}/32`, 'dev', bridge);
  ipn('link', 'set', bridge, 'up');
  // The namespace's own connections to ClusterIPs (the DNS check of networkNotReady) need a route
  // before kube-proxy's output chain DNATs them; pods use their default route to the gateway.
  ipn('route', 'add', serviceCIDR, 'dev', bridge);
  // Packets to ClusterIPs are routed here (pods send them to the gateway).
  inNetwork('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  // A reply from an endpoint to a pod on the same bridge is bridged, not routed: without
  // br_netfilter's hook it would bypass conntrack and reach the client un-NATed (from the pod IP
  // instead of the ClusterIP, which the client resets). The setting is per network namespace.
  if (!inNetwork('sh', ['-c', 'test -e /proc/sys/net/bridge/bridge-nf-call-iptables'], { quiet: true }).ok) {
    throw new Error('the pod network needs the br_netfilter kernel module (no /proc/sys/net/bridge): modprobe br_netfilter');
  }
  inNetwork('sysctl', ['-qw', 'net.bridge.bridge-nf-call-iptables=1']);
}

/** Starts `cmd` detached (its own process group), output to logs/<component>.log, pid in <component>.pid. */
function startDetached(state, component, cmd, args) {
  const logs = path.join(networkDir(state), 'logs');
  mkdirSync(logs, { recursive: true });
  const fd = openSync(path.join(logs, `${component}.log`), 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (!child.pid) throw new Error(`could not start ${component} (${cmd})`);
    child.unref();
    writeFileSync(pidFile(state, component), `${child.pid}\n`);
    return { component, pid: child.pid };
  } finally {
    closeSync(fd);
  }
}

function kubeProxyConfig(kubeconfig) {
  // JSON is YAML. Conntrack limits and timeouts 0: kube-proxy leaves the host-wide sysctls alone.
  return JSON.stringify(
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'nftables',
      clientConnection: { kubeconfig },
      // A kwok node: kube-proxy reads its Node object (addresses, topology) at start.
      hostnameOverride: 'kwok-node-0',
      clusterCIDR: POD_NETWORK.clusterCIDR,
      healthzBindAddress: KUBE_PROXY_HEALTHZ,
      metricsBindAddress: '127.0.0.1:10249',
      // Not the -999 of a node's kube-proxy: this is a test process like any other.
      oomScoreAdj: 0,
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    },
    null,
    2,
  );
}

function corefile(kubeconfig) {
  const { dnsAddress, clusterDomain } = POD_NETWORK;
  // Cluster names from the kubernetes plugin; everything else NXDOMAIN, as an upstream resolver that
  // knows no such name would answer (nothing is forwarded out of the cluster).
  return `${clusterDomain} in-addr.arpa ip6.arpa {
    bind ${dnsAddress}
    errors
    health ${COREDNS_HEALTH}
    ready ${COREDNS_READY}
    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        ttl 5
    }
}
. {
    bind ${dnsAddress}
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`;
}

/**
 * Starts the relay to the API server, kube-proxy and CoreDNS; returns [{ component, pid }].
 * `kubeconfig` names the API server as https://127.0.0.1:<port>.
 */
export function startNetworkComponents({ state, kubeconfig, apiPort, kubeProxyBinary, corednsBinary }) {
  const dir = networkDir(state);
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'apiserver.sock');
  rmSync(socket, { force: true });
  const started = [];
  started.push(startDetached(state, 'apiserver-relay', 'socat', [`UNIX-LISTEN:${socket},fork,mode=600`, `TCP4:127.0.0.1:${apiPort},nodelay`]));
  started.push(
    startDetached(state, 'apiserver-relay-in-network', 'ip', [
      'netns',
      'exec',
      POD_NETWORK.netns,
      'socat',
      `TCP4-LISTEN:${apiPort},bind=127.0.0.1,fork,reuseaddr,nodelay`,
      `UNIX-CONNECT:${socket}`,
    ]),
  );
  const kpConfig = path.join(dir, 'kube-proxy.yaml');
  writeFileSync(kpConfig, `${kubeProxyConfig(kubeconfig)}\n`);
  started.push(startDetached(state, 'kube-proxy', 'ip', ['netns', 'exec', POD_NETWORK.netns, kubeProxyBinary, '--config', kpConfig]));
  const cf = path.join(dir, 'Corefile');
  writeFileSync(cf, corefile(kubeconfig));
  started.push(startDetached(state, 'coredns', 'ip', ['netns', 'exec', POD_NETWORK.netns, corednsBinary, '-conf', cf]));
  return started;
}

/** Service kube-system/kube-dns at the fixed ClusterIP and its EndpointSlice naming CoreDNS. */
export function kubeDnsObjects() {
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP' },
    { name: 'dns-tcp', port: 53, protocol: 'TCP' },
  ];
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        // No selector: CoreDNS is no pod; the EndpointSlice below is written by hand.
        spec: { clusterIP: POD_NETWORK.dnsServiceIP, ports: ports.map((p) => ({ ...p, targetPort: 53 })) },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'kube-dns-coredns',
          namespace: 'kube-system',
          labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'intercept-test-cluster' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [POD_NETWORK.dnsAddress], conditions: { ready: true } }],
        ports,
      },
    ],
  };
}

/** HTTP status of GET http://<hostPort><urlPath> inside the network namespace, or 0. */
function statusInNetwork(hostPort, urlPath) {
  const r = inNetwork('socat', ['-t', '2', '-T', '3', '-', `TCP4:${hostPort}`], {
    quiet: true,
    timeout: 5_000,
    input: `GET ${urlPath} HTTP/1.0\r\nHost: ${hostPort}\r\n\r\n`,
  });
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(r.stdout)?.[1] ?? 0);
}

/** What the network still lacks to be ready for pods, or '' when it is ready. */
export function networkNotReady() {
  if (statusInNetwork(KUBE_PROXY_HEALTHZ, '/healthz') !== 200) return 'kube-proxy /healthz';
  if (statusInNetwork(COREDNS_READY, '/ready') !== 200) return 'CoreDNS /ready';
  // End to end: a name of the cluster, asked at the kube-dns ClusterIP (kube-proxy's DNAT to CoreDNS).
  const name = `kubernetes.default.svc.${POD_NETWORK.clusterDomain}`;
  const r = inNetwork('getent', ['ahostsv4', name], { quiet: true, timeout: 10_000 });
  if (!r.ok) return `the answer for ${name} from ${POD_NETWORK.dnsServiceIP}`;
  return '';
}

/** The namespace's resolv.conf (`ip netns exec` mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf). */
export function writeNetworkResolvConf() {
  const dir = path.join('/etc/netns', POD_NETWORK.netns);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'resolv.conf'), `nameserver ${POD_NETWORK.dnsServiceIP}\noptions timeout:1 attempts:1\n`);
}

/** Pids the network's components recorded (also of an `up` that failed half-way). */
export function networkPids(state) {
  const dir = networkDir(state);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => ({ component: f.replace(/\.pid$/, ''), pid: Number(readFileSync(path.join(dir, f), 'utf8').trim()) }))
    .filter((p) => Number.isInteger(p.pid) && p.pid > 0);
}

/** SIGTERM to each component's process group (socat's forked children included); `down` waits and kills. */
export function signalNetworkComponents(state, signal = 'SIGTERM') {
  for (const { pid } of networkPids(state)) {
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** /etc/netns/<name> folders of the cluster's namespaces (pods' resolv.conf) whose namespace is gone. */
export function removeStaleNetnsConfig(prefix, liveNamespaces) {
  if (!existsSync('/etc/netns')) return [];
  const stale = readdirSync('/etc/netns').filter((n) => n.startsWith(prefix) && !liveNamespaces.includes(n));
  for (const n of stale) rmSync(path.join('/etc/netns', n), { recursive: true, force: true });
  return stale;
}
