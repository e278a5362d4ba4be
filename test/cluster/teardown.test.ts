// `npm run cluster:down` ends every process of the test cluster (the pod network's kube-proxy, CoreDNS
// and API server relay included) and frees every port it listened on; no network namespace of the
// cluster, and no resolv.conf of one, is left. test/cluster/run.mjs runs this file last, after all
// other cluster tests: it takes the cluster down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { clusterStateDir, kubeconfigPath, processAlive, repoRoot } from '../harness/cluster/kube.js';
import { NETNS_PREFIX } from '../harness/cluster/netns.js';

interface ClusterRecord {
  pids: { component: string; pid: number }[];
  ports: string[];
  network?: { netns: string };
}

void test('cluster:down leaves no process, no listening port and no pod namespace behind', () => {
  const recordFile = path.join(clusterStateDir(), 'cluster.json');
  assert.ok(existsSync(recordFile), `a running test cluster records itself in ${recordFile}`);
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ClusterRecord;
  const components = new Set(record.pids.map((p) => p.component));
  const controlPlane = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok-controller'];
  const podNetwork = ['kube-proxy', 'coredns', 'apiserver-relay', 'apiserver-relay-in-network'];
  for (const c of [...controlPlane, ...podNetwork]) {
    assert.ok(components.has(c), `${c} was running (recorded: ${[...components].join(', ')})`);
  }
  assert.ok(record.ports.length >= 3, 'the cluster listened on its ports');
  assert.ok(record.pids.every((p) => processAlive(p.pid)), 'all cluster processes run before down');
  const networkNetns = record.network?.netns;
  assert.ok(networkNetns?.startsWith(NETNS_PREFIX), `the pod network's namespace is recorded (${networkNetns})`);
  assert.ok(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(networkNetns!), 'and exists before down');

  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'cluster', 'cluster.mjs'), 'down'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 180_000,
  });

  const stillRunning = record.pids.filter((p) => processAlive(p.pid));
  assert.deepEqual(stillRunning, [], 'no cluster process is left');
  const listening = execFileSync('ss', ['-Hltn'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter((local): local is string => !!local);
  assert.deepEqual(
    record.ports.filter((p) => listening.includes(p)),
    [],
    'no port of the cluster is still listening',
  );
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.ok(!netns.includes(NETNS_PREFIX), `no network namespace of the cluster (pods' or the pod network's) is left:\n${netns}`);
  const configs = existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(NETNS_PREFIX)) : [];
  assert.deepEqual(configs, [], 'no /etc/netns folder (resolv.conf) of them is left');
  assert.ok(!existsSync(kubeconfigPath()), 'the kubeconfig is gone with the cluster');
});
