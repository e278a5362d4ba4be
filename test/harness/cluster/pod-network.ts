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
 * The pod's MAC, derived from its IP as CNI's bridge plugin does (0a:58 and the four bytes): when
 * kwok hands a freed pod IP out again, the neighbour caches of the bridge and of other pods stay
 * right for the new pod.
 */
export function macOf(ipv4: string): string {
  return ['0a', '58', ...ipv4.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** Pod IPs on the pod network, attached in this process: the namespace holding each. */
const holders = new Map<string, string>();

/**
 * kwok hands a deleted pod's IP out again at once, where a kubelet keeps it until the pod's sandbox
 * is gone. The new pod gets the address on the network; the old one, whose processes are still
 * ending, is taken off it and keeps the address on its loopback, so connections inside it go on.
 */
async function evict(podIP: string, oldNetns: string): Promise<void> {
  holders.delete(podIP);
  // Either may fail when the old namespace is going away at the same moment: nothing left to do then.
  await ip(['-n', oldNetns, 'link', 'del', 'eth0']).catch(() => undefined);
  await ip(['-n', oldNetns, 'addr', 'add', `${podIP}/32`, 'dev', 'lo']).catch(() => undefined);
}

function resolvConf(network: ClusterNetwork, podNamespace: string): string {
  const domain = network.clusterDomain;
  return [
    `search ${podNamespace}.svc.${domain} svc.${domain} ${domain}`,
    `nameserver ${network.dnsServiceIP}`,
    'options ndots:5',
    '',
  ].join('\n');
}

const netnsConfigDir = (podNetns: string) => path.join('/etc/netns', podNetns);

/** Puts an existing (empty) pod namespace on the pod network with `podIP`. */
export async function attachToPodNetwork(podNetns: string, podIP: string, podNamespace: string): Promise<void> {
  const network = clusterNetwork();
  const holder = holders.get(podIP);
  if (holder !== undefined && holder !== podNetns) await evict(podIP, holder);
  holders.set(podIP, podNetns);
  const port = bridgePortName(podNetns);
  await ip(['-n', podNetns, 'link', 'add', 'eth0', 'address', macOf(podIP), 'type', 'veth', 'peer', 'name', port, 'netns', network.netns]);
  await ip(['-n', network.netns, 'link', 'set', port, 'master', network.bridge, 'up']);
  await ip(['-n', podNetns, 'addr', 'add', `${podIP}/${network.prefixLength}`, 'dev', 'eth0']);
  await ip(['-n', podNetns, 'link', 'set', 'eth0', 'up']);
  await ip(['-n', podNetns, 'route', 'add', 'default', 'via', network.gateway, 'dev', 'eth0']);
  mkdirSync(netnsConfigDir(podNetns), { recursive: true });
  writeFileSync(path.join(netnsConfigDir(podNetns), 'resolv.conf'), resolvConf(network, podNamespace));
}

/** After the pod's namespace is deleted (its veth goes with it): its resolv.conf, and its IP. */
export function detachFromPodNetwork(podNetns: string): void {
  rmSync(netnsConfigDir(podNetns), { recursive: true, force: true });
  for (const [address, netns] of holders) if (netns === podNetns) holders.delete(address);
}
