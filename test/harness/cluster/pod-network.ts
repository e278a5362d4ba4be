// A pod's place on the test cluster's pod network (made by `npm run cluster:up`, see
// scripts/cluster/pod-network.mjs), set up as a CNI bridge plugin would: a veth pair whose pod end is
// `eth0` carrying the pod IP (with the pod network's prefix) and a default route via the gateway, and
// whose other end is a port of the network's bridge; and the pod's resolv.conf naming the cluster
// DNS (`ip netns exec` mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { clusterStateDir } from './kube.js';

const run = promisify(execFile);

/** The pod network as `up` recorded it in the cluster's state (cluster.json). */
export interface ClusterNetwork {
  netns: string;
  bridge: string;
  clusterCIDR: string;
  prefixLength: number;
  gateway: string;
  dnsAddress: string;
  serviceCIDR: string;
  dnsServiceIP: string;
  clusterDomain: string;
  nodePodCIDRs: string[];
  nodeAddresses: string[];
}

export function clusterNetwork(): ClusterNetwork {
  const file = path.join(clusterStateDir(), 'cluster.json');
  const record = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { network?: ClusterNetwork }) : undefined;
  if (!record?.network) throw new Error(`the test cluster (${file}) has no pod network: start it with \`npm run cluster:up\``);
  return record.network;
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 });
}

/** The bridge's end of a pod's veth (interface names have at most 15 characters). */
function bridgePortName(podNetns: string): string {
  return `veth${podNetns.slice(-11)}`;
}

/**
 * The pod's MAC, derived from its IP as CNI's bridge plugin does (0a:58 and the four bytes): kwok
 * hands a freed pod IP out again at once, and with the same MAC the neighbour caches of the bridge
 * and of other pods stay right for the new pod.
 */
export function macOf(ipv4: string): string {
  return ['0a', '58', ...ipv4.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/**
 * Addresses attached in this process, by pod IP: the namespace holding it and a promise of its
 * release. kwok frees a pod's IP when its object goes, a kubelet only once the pod's sandbox is gone;
 * a new pod given that IP while the old pod's processes still end waits for its namespace to go.
 */
const holders = new Map<string, { netns: string; released: Promise<void>; release: () => void }>();

function resolvConf(network: ClusterNetwork, podNamespace: string): string {
  const domain = network.clusterDomain;
  return [
    `search ${podNamespace}.svc.${domain} svc.${domain} ${domain}`,
    `nameserver ${network.dnsServiceIP}`,
    'options ndots:5',
    '',
  ].join('\n');
}

async function addressReleased(podIP: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let holder = holders.get(podIP); holder; holder = holders.get(podIP)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`pod IP ${podIP} is still held by namespace ${holder.netns} after ${waitMs} ms`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([holder.released, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
  }
}

const netnsConfigDir = (podNetns: string) => path.join('/etc/netns', podNetns);

/** Puts an existing (empty) pod namespace on the pod network with `podIP`. */
export async function attachToPodNetwork(podNetns: string, podIP: string, podNamespace: string, { waitMs = 60_000 } = {}): Promise<void> {
  const network = clusterNetwork();
  await addressReleased(podIP, waitMs);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  holders.set(podIP, { netns: podNetns, released, release });
  const port = bridgePortName(podNetns);
  await ip(['-n', podNetns, 'link', 'add', 'eth0', 'address', macOf(podIP), 'type', 'veth', 'peer', 'name', port, 'netns', network.netns]);
  await ip(['-n', network.netns, 'link', 'set', port, 'master', network.bridge, 'up']);
  await ip(['-n', podNetns, 'addr', 'add', `${podIP}/${network.prefixLength}`, 'dev', 'eth0']);
  await ip(['-n', podNetns, 'link', 'set', 'eth0', 'up']);
  await ip(['-n', podNetns, 'route', 'add', 'default', 'via', network.gateway, 'dev', 'eth0']);
  mkdirSync(netnsConfigDir(podNetns), { recursive: true });
  writeFileSync(path.join(netnsConfigDir(podNetns), 'resolv.conf'), resolvConf(network, podNamespace));
}

/** After the pod's namespace is deleted (its veth goes with it): its resolv.conf, and its IP for reuse. */
export function detachFromPodNetwork(podNetns: string): void {
  rmSync(netnsConfigDir(podNetns), { recursive: true, force: true });
  for (const [address, holder] of holders) {
    if (holder.netns !== podNetns) continue;
    holders.delete(address);
    holder.release();
  }
}
