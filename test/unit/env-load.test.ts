import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type V1ConfigMap, type V1Deployment, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { apiCall } from '../../src/core/kube/api-errors';
import type { Workload } from '../../src/core/kube/workloads';
import { appContainerName, loadPodEnvironment, readsSecrets, type PodEnvApi } from '../../src/core/env/load-env';

// A Deployment with literal values, a ConfigMap, a Secret, fieldRef and $(VAR) expansion.
const deployment: V1Deployment = {
  metadata: { name: 'orders', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'orders' } },
    template: {
      metadata: { labels: { app: 'orders' } },
      spec: {
        containers: [
          {
            name: 'orders',
            image: 'orders:1',
            ports: [{ containerPort: 8080 }],
            envFrom: [{ configMapRef: { name: 'orders-config' } }],
            env: [
              { name: 'PORT', value: '8080' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } },
              { name: 'DATABASE_URL', value: 'postgres://orders:$(DB_PASSWORD)@$(DB_HOST):5432/orders' },
              { name: 'SELF_URL', value: 'http://$(POD_IP):$(PORT)' },
            ],
          },
          { name: 'intercept-proxy', image: 'node:22' },
        ],
      },
    },
  },
};
const workload: Workload = { kind: 'Deployment', name: 'orders', namespace: 'shop', object: deployment };

const pod = (name: string, ready: boolean, ip: string): V1Pod => ({
  metadata: { name, namespace: 'shop', labels: { app: 'orders' } },
  spec: deployment.spec!.template.spec!,
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

/** The reads a cluster answers, failing as the API server does (through the real error mapping). */
function fakeApi(opts: { secretsForbidden?: boolean; pods?: V1Pod[] } = {}): PodEnvApi & { secretReads: string[] } {
  const refuse = (resource: string) => new ApiException(403, 'Forbidden', JSON.stringify({ message: `secrets "x" is forbidden: User "dev" cannot get resource "${resource}" in API group "" in the namespace "shop"` }), {});
  const secretReads: string[] = [];
  return {
    secretReads,
    listPods: (namespace, selector) => {
      assert.equal(selector, 'app=orders');
      return apiCall({ verb: 'list', resource: 'pods', namespace }, '', () => Promise.resolve(opts.pods ?? [pod('orders-b', true, '10.0.0.2'), pod('orders-a', false, '10.0.0.1')]));
    },
    readConfigMap: (namespace, name) =>
      apiCall({ verb: 'get', resource: 'configmaps', namespace, name }, '', () =>
        name === 'orders-config' ? Promise.resolve<V1ConfigMap>({ data: { DB_HOST: 'postgres.shop.svc.cluster.local', LOG_LEVEL: 'info' } }) : Promise.reject(new ApiException(404, 'Not Found', '{}', {})),
      ),
    readSecret: (namespace, name) => {
      secretReads.push(name);
      return apiCall({ verb: 'get', resource: 'secrets', namespace, name }, '', () =>
        opts.secretsForbidden ? Promise.reject(refuse('secrets')) : Promise.resolve<V1Secret>({ data: { password: Buffer.from('pa ss"word').toString('base64') } }),
      );
    },
  };
}

describe('loading the pod environment of a workload', () => {
  it('gives literal values, ConfigMap keys, the Secret, the ready pod\'s fields and expansions exactly', async () => {
    const env = await loadPodEnvironment(fakeApi(), workload, 'orders', { includeSecrets: true });
    assert.equal(env.pod, 'orders-b', 'the ready pod');
    assert.deepEqual(
      env.variables.map((v) => [v.name, v.value, v.secret]),
      [
        ['DB_HOST', 'postgres.shop.svc.cluster.local', false],
        ['LOG_LEVEL', 'info', false],
        ['PORT', '8080', false],
        ['POD_NAME', 'orders-b', false],
        ['POD_IP', '10.0.0.2', false],
        ['DB_PASSWORD', 'pa ss"word', true],
        ['DATABASE_URL', 'postgres://orders:pa ss"word@postgres.shop.svc.cluster.local:5432/orders', true],
        ['SELF_URL', 'http://10.0.0.2:8080', false],
      ],
    );
    assert.deepEqual(env.notes, []);
  });

  it('without Secret access gives the rest and a clear note of what was left out', async () => {
    const api = fakeApi({ secretsForbidden: true });
    const env = await loadPodEnvironment(api, workload, 'orders', { includeSecrets: true });
    assert.deepEqual(env.variables.map((v) => v.name), ['DB_HOST', 'LOG_LEVEL', 'PORT', 'POD_NAME', 'POD_IP', 'SELF_URL']);
    assert.deepEqual(
      env.notes.map((n) => n.message),
      ['DB_PASSWORD: left out: you may not get secrets in namespace shop', 'DATABASE_URL: left out: its value refers to $(DB_PASSWORD), which was left out'],
    );
  });

  it('reads no Secret unless asked, and says so', async () => {
    const api = fakeApi();
    const env = await loadPodEnvironment(api, workload, 'orders', { includeSecrets: false });
    assert.deepEqual(api.secretReads, []);
    assert.equal(env.variables.some((v) => v.secret), false);
    assert.match(env.notes[0]!.message, /DB_PASSWORD: left out: Secret orders-db was not read/);
  });

  it('with no ready pod uses the template and reports the pod fields as unknown', async () => {
    const env = await loadPodEnvironment(fakeApi({ pods: [pod('orders-a', false, '10.0.0.1')] }), workload, 'orders', { includeSecrets: true });
    assert.equal(env.pod, undefined);
    assert.deepEqual(env.notes.map((n) => [n.kind, n.variables]), [['unknown', ['POD_NAME']], ['unknown', ['POD_IP']], ['left-out', ['SELF_URL']]]);
  });

  it('fails as a whole only for what is not a permission or a missing object', async () => {
    const api: PodEnvApi = { ...fakeApi(), readConfigMap: (namespace, name) => apiCall({ verb: 'get', resource: 'configmaps', namespace, name }, 'https://k', () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))) };
    await assert.rejects(loadPodEnvironment(api, workload, 'orders', { includeSecrets: false }), (e: { kind?: string }) => e.kind === 'unreachable');
    await assert.rejects(loadPodEnvironment(fakeApi(), workload, 'nope', { includeSecrets: false }), (e: { kind?: string }) => e.kind === 'not-found');
  });

  it('finds the app container of an app port, or the only one besides the proxy', () => {
    assert.equal(appContainerName(workload, 8080), 'orders');
    assert.equal(appContainerName(workload, 9090), 'orders');
    const two: Workload = { ...workload, object: { ...deployment, spec: { ...deployment.spec!, template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } } };
    assert.equal(appContainerName(two, 9090), undefined);
  });
});

describe('whether a container reads Secrets', () => {
  const withEnv = (env: NonNullable<V1Deployment['spec']>['template']['spec']): Workload => ({
    ...workload,
    object: { ...deployment, spec: { ...deployment.spec!, template: { ...deployment.spec!.template, spec: env } } },
  });

  it('says so for a secretKeyRef, and for an envFrom secretRef', () => {
    assert.equal(readsSecrets(workload, 'orders'), true);
    assert.equal(readsSecrets(withEnv({ containers: [{ name: 'orders', envFrom: [{ secretRef: { name: 'creds' } }] }] }), 'orders'), true);
  });

  it('says no for ConfigMaps, literals and fieldRefs only, and for another container', () => {
    assert.equal(readsSecrets(withEnv({ containers: [{ name: 'orders', envFrom: [{ configMapRef: { name: 'c' } }], env: [{ name: 'A', value: 'x' }, { name: 'P', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }] }), 'orders'), false);
    assert.equal(readsSecrets(workload, 'intercept-proxy'), false);
  });
});
