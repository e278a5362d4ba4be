// Machine tools the test cluster needs, installed with apt-get when missing:
//   ip (iproute2)  network namespaces, one per pod, veths and the pod network's bridge;
//   ss (iproute2)  listening sockets of the cluster;
//   socat          the byte pipe that carries a port-forward or a Service request into a pod's
//                  namespace, and the relay between the API server and the pod network's namespace;
//   nft (nftables) kube-proxy's nftables mode programs Service NAT through it;
//   iptables       kube-proxy (any mode) first clears rules an iptables-mode kube-proxy would have left;
//   sysctl (procps) forwarding and br_netfilter settings inside the pod network's namespace.
// (No `conntrack` tool: kube-proxy clears stale conntrack entries over netlink itself.)
import { spawnSync } from 'node:child_process';

const needed = [
  { command: 'ip', pkg: 'iproute2' },
  { command: 'ss', pkg: 'iproute2' },
  { command: 'socat', pkg: 'socat' },
  { command: 'nft', pkg: 'nftables' },
  { command: 'iptables', pkg: 'iptables' },
  { command: 'sysctl', pkg: 'procps' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

export function ensureTools(log = console.log) {
  const missing = [...new Set(needed.filter((n) => !has(n.command)).map((n) => n.pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing packages ${missing.join(', ')}; install them: sudo apt-get install -y ${missing.join(' ')}`);
  }
  const run = (args, timeout) => {
    log(`apt-get ${args.join(' ')}`);
    const r = spawnSync('apt-get', args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout,
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  };
  run(['update'], 5 * 60_000);
  run(['install', '-y', '--no-install-recommends', ...missing], 10 * 60_000);
  const still = needed.filter((n) => !has(n.command)).map((n) => n.command);
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}

/** The cluster runs pods' processes in network namespaces: that takes root (CAP_SYS_ADMIN). */
export function ensureRoot() {
  if (process.getuid?.() !== 0) {
    throw new Error('the test cluster creates network namespaces per pod and must run as root (or in a root container)');
  }
}
