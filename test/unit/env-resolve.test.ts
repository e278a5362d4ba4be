import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { resolveEnvironment, type EnvInputs } from '../../src/core/env/resolve-env';
import type { ResolvedEnvironment, SourceData } from '../../src/core/env/types';

const read = (data: Record<string, string>): SourceData => ({ state: 'read', data });
const runningPod: V1Pod = {
  metadata: { name: 'orders-7d9c-abcde', namespace: 'shop', uid: '1f2e-33', labels: { app: 'orders', 'pod-template-hash': '7d9c' }, annotations: { team: 'checkout' } },
  spec: { nodeName: 'node-2', serviceAccountName: 'orders', containers: [] },
  status: { podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }, { ip: 'fd00::7' }], hostIP: '172.18.0.3', hostIPs: [{ ip: '172.18.0.3' }] },
};

function resolve(container: Partial<V1Container>, more: Partial<EnvInputs> = {}): ResolvedEnvironment {
  const c: V1Container = { name: 'app', ...container };
  const pod = more.pod ?? { ...runningPod, spec: { ...runningPod.spec, containers: [c] } };
  return resolveEnvironment({ container: c, pod, running: true, configMaps: {}, secrets: {}, ...more, ...(more.pod ? {} : { pod }) });
}
const values = (r: ResolvedEnvironment) => Object.fromEntries(r.variables.map((v) => [v.name, v.value]));
const names = (r: ResolvedEnvironment) => r.variables.map((v) => v.name);

describe('the pod environment as Kubernetes builds it', () => {
  it('expands $(VAR) only against what is defined earlier, as in the Kubernetes docs on interdependent variables', () => {
    // kubernetes/website: tasks/inject-data-application/define-interdependent-environment-variables
    const r = resolve({
      env: [
        { name: 'SERVICE_PORT', value: '80' },
        { name: 'SERVICE_IP', value: '172.17.0.1' },
        { name: 'UNCHANGED_REFERENCE', value: '$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)' },
        { name: 'PROTOCOL', value: 'https' },
        { name: 'SERVICE_ADDRESS', value: '$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)' },
        { name: 'ESCAPED_REFERENCE', value: '$$(PROTOCOL)://$(SERVICE_IP):$(SERVICE_PORT)' },
      ],
    });
    assert.deepEqual(values(r), {
      SERVICE_PORT: '80',
      SERVICE_IP: '172.17.0.1',
      UNCHANGED_REFERENCE: '$(PROTOCOL)://172.17.0.1:80',
      PROTOCOL: 'https',
      SERVICE_ADDRESS: 'https://172.17.0.1:80',
      ESCAPED_REFERENCE: '$(PROTOCOL)://172.17.0.1:80',
    });
    assert.deepEqual(r.notes, []);
  });

  it('applies envFrom first in order with prefixes, then env, a later definition winning', () => {
    const r = resolve(
      {
        envFrom: [{ configMapRef: { name: 'app-config' } }, { prefix: 'CACHE_', configMapRef: { name: 'redis' } }, { configMapRef: { name: 'overrides' } }],
        env: [
          { name: 'LOG_LEVEL', value: 'debug' },
          { name: 'CACHE_URL', value: 'redis://$(CACHE_HOST):$(CACHE_PORT)/0' },
        ],
      },
      {
        configMaps: {
          'app-config': read({ LOG_LEVEL: 'info', FEATURE_X: 'on', TIMEOUT: '30s' }),
          redis: read({ HOST: 'cache', PORT: '6379' }),
          overrides: read({ TIMEOUT: '5s' }),
        },
      },
    );
    assert.deepEqual(values(r), { FEATURE_X: 'on', CACHE_HOST: 'cache', CACHE_PORT: '6379', TIMEOUT: '5s', LOG_LEVEL: 'debug', CACHE_URL: 'redis://cache:6379/0' });
    assert.deepEqual(names(r), ['FEATURE_X', 'CACHE_HOST', 'CACHE_PORT', 'TIMEOUT', 'LOG_LEVEL', 'CACHE_URL']);
    const level = r.variables.find((v) => v.name === 'LOG_LEVEL')!;
    assert.equal(level.source, 'value in the container spec');
    assert.equal(r.variables.find((v) => v.name === 'CACHE_HOST')!.source, 'ConfigMap redis key HOST (envFrom, prefix CACHE_)');
  });

  it('skips envFrom keys that are not valid names and reports them as the kubelet event does, unless names are relaxed', () => {
    const container = { envFrom: [{ configMapRef: { name: 'myconfig' } }] };
    const configMaps = { myconfig: read({ '1badkey': 'x', '2alsobad': 'y', 'nginx.conf': 'z', GOOD: 'g' }) };
    const r = resolve(container, { configMaps });
    assert.deepEqual(names(r), ['GOOD', 'nginx.conf']);
    assert.deepEqual(r.notes, [
      {
        kind: 'invalid-names',
        variables: ['1badkey', '2alsobad'],
        message: 'Keys [1badkey, 2alsobad] from the EnvFrom configMap shop/myconfig were skipped since they are considered invalid environment variable names.',
      },
    ]);
    assert.deepEqual(names(resolve(container, { configMaps, nameRule: 'relaxed' })), ['1badkey', '2alsobad', 'GOOD', 'nginx.conf']);
  });

  it('reads ConfigMap and Secret keys, marking Secret values and values expanded from them as secret', () => {
    const r = resolve(
      {
        env: [
          { name: 'DB_USER', valueFrom: { configMapKeyRef: { name: 'db', key: 'user' } } },
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } },
          { name: 'DATABASE_URL', value: 'postgres://$(DB_USER):$(DB_PASSWORD)@postgres:5432/orders' },
          { name: 'DB_HOST_ONLY', value: 'postgres:5432 as $(DB_USER)' },
        ],
      },
      { configMaps: { db: read({ user: 'orders' }) }, secrets: { 'db-credentials': read({ password: 's3cr=t' }) } },
    );
    assert.deepEqual(
      r.variables.map((v) => [v.name, v.value, v.secret, v.source]),
      [
        ['DB_USER', 'orders', false, 'ConfigMap db key user'],
        ['DB_PASSWORD', 's3cr=t', true, 'Secret db-credentials key password'],
        ['DATABASE_URL', 'postgres://orders:s3cr=t@postgres:5432/orders', true, 'value in the container spec'],
        ['DB_HOST_ONLY', 'postgres:5432 as orders', false, 'value in the container spec'],
      ],
    );
  });

  it('without Secret access gives the rest, and says what was left out and why, including what refers to it', () => {
    const container = {
      envFrom: [{ secretRef: { name: 'api-keys' } }],
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } },
        { name: 'DATABASE_URL', value: 'postgres://orders:$(DB_PASSWORD)@postgres:5432/orders' },
        { name: 'STRIPE_URL', value: 'https://$(STRIPE_KEY)@api.stripe.com' },
      ],
    };
    const forbidden: SourceData = { state: 'forbidden', namespace: 'shop' };
    const r = resolve(container, { secrets: { 'db-credentials': forbidden, 'api-keys': forbidden } });
    assert.deepEqual(values(r), { LOG_LEVEL: 'info' });
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.variables]),
      [
        ['left-out', []],
        ['left-out', ['DB_PASSWORD']],
        ['left-out', ['DATABASE_URL']],
        ['left-out', ['STRIPE_URL']],
      ],
    );
    assert.match(r.notes[0]!.message, /Secret api-keys .*left out: you may not get secrets in namespace shop/);
    assert.equal(r.notes[1]!.message, 'DB_PASSWORD: left out: you may not get secrets in namespace shop');
    assert.match(r.notes[2]!.message, /refers to \$\(DB_PASSWORD\), which was left out/);
    assert.match(r.notes[3]!.message, /refers to \$\(STRIPE_KEY\), which may come from Secret api-keys/);

    const notChosen = resolve(container, {});
    assert.match(notChosen.notes[1]!.message, /Secret db-credentials was not read/);
  });

  it('skips missing optional sources and keys, keeping an earlier definition; reports required ones', () => {
    const r = resolve(
      {
        envFrom: [{ configMapRef: { name: 'maybe', optional: true } }, { secretRef: { name: 'gone' } }],
        env: [
          { name: 'MODE', value: 'default' },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'mode', optional: true } } },
          { name: 'REGION', valueFrom: { configMapKeyRef: { name: 'app', key: 'region' } } },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'nope', key: 'token', optional: true } } },
          { name: 'URL', value: 'https://$(REGION).example.com' },
        ],
      },
      { configMaps: { maybe: { state: 'missing' }, app: read({}) }, secrets: { gone: { state: 'missing' }, nope: { state: 'missing' } } },
    );
    assert.deepEqual(values(r), { MODE: 'default' });
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.variables]),
      [
        ['would-not-start', []],
        ['would-not-start', ['REGION']],
        ['left-out', ['URL']],
      ],
    );
    assert.match(r.notes[0]!.message, /Secret shop\/gone does not exist/);
    assert.match(r.notes[1]!.message, /ConfigMap shop\/app has no key region/);
  });

  it('reads the downward API fields of the running pod, as in the Kubernetes docs example', () => {
    // kubernetes/website: dapi-envars-pod.yaml, plus the keyed label and annotation forms
    const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const env = [
      field('MY_NODE_NAME', 'spec.nodeName'),
      field('MY_POD_NAME', 'metadata.name'),
      field('MY_POD_NAMESPACE', 'metadata.namespace'),
      field('MY_POD_IP', 'status.podIP'),
      field('MY_POD_IPS', 'status.podIPs'),
      field('MY_HOST_IP', 'status.hostIP'),
      field('MY_POD_UID', 'metadata.uid'),
      field('MY_POD_SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      field('APP', "metadata.labels['app']"),
      field('TEAM', "metadata.annotations['team']"),
      field('NONE', "metadata.labels['absent']"),
      { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'k8s.pod.name=$(MY_POD_NAME),k8s.node.name=$(MY_NODE_NAME)' },
    ];
    const r = resolve({ env });
    assert.deepEqual(values(r), {
      MY_NODE_NAME: 'node-2',
      MY_POD_NAME: 'orders-7d9c-abcde',
      MY_POD_NAMESPACE: 'shop',
      MY_POD_IP: '10.244.1.7',
      MY_POD_IPS: '10.244.1.7,fd00::7',
      MY_HOST_IP: '172.18.0.3',
      MY_POD_UID: '1f2e-33',
      MY_POD_SERVICE_ACCOUNT: 'orders',
      APP: 'orders',
      TEAM: 'checkout',
      NONE: '',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=orders-7d9c-abcde,k8s.node.name=node-2',
    });
    assert.equal(r.variables[0]!.source, 'fieldRef spec.nodeName');

    // No pod running: what only a running pod has is unknown, and so is what refers to it.
    const template: V1Pod = { metadata: { namespace: 'shop', labels: { app: 'orders' } }, spec: { containers: [] } };
    const t = resolve({ env }, { pod: template, running: false });
    assert.deepEqual(values(t), { MY_POD_NAMESPACE: 'shop', MY_POD_SERVICE_ACCOUNT: 'default', APP: 'orders', TEAM: '', NONE: '' });
    assert.deepEqual(
      t.notes.filter((n) => n.kind === 'unknown').flatMap((n) => n.variables),
      ['MY_NODE_NAME', 'MY_POD_NAME', 'MY_POD_IP', 'MY_POD_IPS', 'MY_HOST_IP', 'MY_POD_UID'],
    );
    assert.deepEqual(t.notes.find((n) => n.variables.includes('OTEL_RESOURCE_ATTRIBUTES'))?.kind, 'left-out');
  });

  it('computes resourceFieldRef with divisors and round-up, as in the Kubernetes docs and GOMAXPROCS/GOMEMLIMIT set-ups', () => {
    // kubernetes/website: dapi-envars-container.yaml (requests 32Mi/125m, limits 64Mi/250m)
    const res = (name: string, resource: string, divisor?: string, containerName?: string) => ({
      name,
      valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}), ...(containerName ? { containerName } : {}) } },
    });
    const r = resolve({
      resources: { requests: { memory: '32Mi', cpu: '125m' }, limits: { memory: '64Mi', cpu: '250m' } },
      env: [
        res('MY_CPU_REQUEST', 'requests.cpu'),
        res('MY_CPU_LIMIT', 'limits.cpu'),
        res('MY_MEM_REQUEST', 'requests.memory'),
        res('MY_MEM_LIMIT', 'limits.memory'),
        res('CPU_MILLIS', 'limits.cpu', '1m'),
        res('MEM_MIB', 'limits.memory', '1Mi'),
        res('GOMEMLIMIT_MB', 'requests.memory', '1M'),
        res('EPHEMERAL', 'requests.ephemeral-storage'),
      ],
    });
    assert.deepEqual(values(r), {
      MY_CPU_REQUEST: '1',
      MY_CPU_LIMIT: '1',
      MY_MEM_REQUEST: '33554432',
      MY_MEM_LIMIT: '67108864',
      CPU_MILLIS: '250',
      MEM_MIB: '64',
      GOMEMLIMIT_MB: '34',
      EPHEMERAL: '0',
    });
    assert.equal(r.variables.find((v) => v.name === 'MEM_MIB')!.source, 'resourceFieldRef limits.memory / 1Mi');

    // Only limits: requests default to them. No limits: node allocatable, unknown here.
    const onlyLimits = resolve({ resources: { limits: { cpu: '1500m' } }, env: [res('GOMAXPROCS', 'limits.cpu'), res('REQ', 'requests.cpu', '1m'), res('MEM', 'limits.memory')] });
    assert.deepEqual(values(onlyLimits), { GOMAXPROCS: '2', REQ: '1500' });
    assert.deepEqual(onlyLimits.notes.map((n) => [n.kind, n.variables]), [['unknown', ['MEM']]]);
    assert.match(onlyLimits.notes[0]!.message, /sets no memory limit.*node's allocatable memory/);

    // Another container of the pod, by name.
    const sidecar: V1Container = { name: 'envoy', resources: { limits: { memory: '128Mi' } } };
    const app: V1Container = { name: 'app', env: [res('ENVOY_MEM', 'limits.memory', '1Mi', 'envoy')] };
    const pod = { ...runningPod, spec: { ...runningPod.spec, containers: [app, sidecar] } };
    assert.deepEqual(values(resolveEnvironment({ container: app, pod, running: true, configMaps: {}, secrets: {} })), { ENVOY_MEM: '128' });
  });
});
