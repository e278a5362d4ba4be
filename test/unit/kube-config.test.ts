import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { contextsOf, contextNamespace, loadKubeConfig } from '../../src/core/kube/kube-config';
import { CoreError } from '../../src/core/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'intercept-kubeconfig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, doc: object): string {
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify({ apiVersion: 'v1', kind: 'Config', ...doc }));
  return f;
}

const a = file('a.yaml', {
  'current-context': 'dev',
  clusters: [{ name: 'c1', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority': 'ca.crt' } }],
  users: [{ name: 'u1', user: { token: 'first' } }],
  contexts: [{ name: 'dev', context: { cluster: 'c1', user: 'u1', namespace: 'shop' } }],
});
const b = file('b.yaml', {
  'current-context': 'prod',
  clusters: [
    { name: 'c1', cluster: { server: 'https://10.0.0.1:6443' } },
    { name: 'c2', cluster: { server: 'https://127.0.0.2:6443' } },
  ],
  users: [
    { name: 'u1', user: { token: 'second' } },
    { name: 'u2', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'x'] } } },
  ],
  contexts: [{ name: 'prod', context: { cluster: 'c2', user: 'u2' } }],
});

const kindOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CoreError, String(err));
    return err.failure.kind;
  }
  return 'none';
};

describe('kubeconfig as kubectl reads it', () => {
  it('merges KUBECONFIG files with the first definition and the first current-context winning', () => {
    const kc = loadKubeConfig({ kubeconfigEnv: [a, path.join(dir, 'missing.yaml'), b].join(path.delimiter) });
    assert.equal(kc.getCurrentContext(), 'dev');
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(kc.getCurrentUser()?.token, 'first');
    assert.equal(contextNamespace(kc), 'shop');
    assert.equal(kc.getCurrentCluster()?.caFile, path.join(dir, 'ca.crt'), 'a relative path stays relative to its own file');
    assert.deepEqual(
      contextsOf(kc).map((c) => [c.name, c.namespace, c.current]),
      [
        ['dev', 'shop', true],
        ['prod', 'default', false],
      ],
    );
  });

  it('takes a chosen context, keeping its exec credential plugin', () => {
    const kc = loadKubeConfig({ kubeconfigEnv: [a, b].join(path.delimiter), context: 'prod' });
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.2:6443');
    assert.equal((kc.getCurrentUser()?.exec as { command?: string } | undefined)?.command, 'aws');
  });

  it('reads ~/.kube/config when KUBECONFIG is unset', () => {
    const home = path.join(dir, 'home');
    mkdirSync(path.join(home, '.kube'), { recursive: true });
    writeFileSync(path.join(home, '.kube', 'config'), JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'dev', clusters: [{ name: 'c1', cluster: { server: 'https://127.0.0.3' } }], users: [{ name: 'u1', user: {} }], contexts: [{ name: 'dev', context: { cluster: 'c1', user: 'u1' } }] }));
    assert.equal(loadKubeConfig({ homeDir: home }).getCurrentCluster()?.server, 'https://127.0.0.3');
  });

  it('says what is wrong: no file, no current context, an unknown context, a broken file', () => {
    assert.equal(kindOf(() => loadKubeConfig({ kubeconfigEnv: path.join(dir, 'none.yaml') })), 'no-kubeconfig');
    assert.equal(kindOf(() => loadKubeConfig({ homeDir: path.join(dir, 'nohome') })), 'no-kubeconfig');
    const noCurrent = file('nocurrent.yaml', { clusters: [], users: [], contexts: [] });
    assert.equal(kindOf(() => loadKubeConfig({ kubeconfigEnv: noCurrent })), 'no-kubeconfig');
    assert.equal(kindOf(() => loadKubeConfig({ kubeconfigEnv: a, context: 'staging' })), 'bad-kubeconfig');
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'clusters: [ {');
    assert.equal(kindOf(() => loadKubeConfig({ kubeconfigEnv: broken })), 'bad-kubeconfig');
  });
});
