// `npm run cluster:down` ends every process of the test cluster and frees every port it listened on.
// test/cluster/run.mjs runs this file last, after all other cluster tests: it takes the cluster down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { clusterStateDir, kubeconfigPath, processAlive, repoRoot } from '../harness/cluster/kube.js';
import { NETNS_PREFIX } from '../harness/cluster/netns.js';

interface ClusterRecord {
  pids: { component: string; pid: number }[];
  ports: string[];
}

void test('cluster:down leaves no process, no listening port and no pod namespace behind', () => {
  const recordFile = path.join(clusterStateDir(), 'cluster.json');
  assert.ok(existsSync(recordFile), `a running test cluster records itself in ${recordFile}`);
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as ClusterRecord;
  const components = new Set(record.pids.map((p) => p.component));
  for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok-controller']) {
    assert.ok(components.has(c), `${c} was running (recorded: ${[...components].join(', ')})`);
  }
  assert.ok(record.ports.length >= 3, 'the cluster listened on its ports');
  assert.ok(record.pids.every((p) => processAlive(p.pid)), 'all cluster processes run before down');

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
  assert.ok(!netns.includes(NETNS_PREFIX), `no pod network namespace is left:\n${netns}`);
  assert.ok(!existsSync(kubeconfigPath()), 'the kubeconfig is gone with the cluster');
});
