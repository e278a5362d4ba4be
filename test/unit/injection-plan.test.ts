import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import {
  planInjection,
  readInjection,
  serviceInterceptPatch,
  serviceRestorePatch,
  sidecarContainer,
  usedPorts,
  workloadApply,
  type SidecarSettings,
} from '../../src/core/session/injection-plan';
import { ANNOTATION_INJECTION, ANNOTATION_SERVICE } from '../../src/core/session/names';
import { SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../../src/protocol/constants';

const settings: SidecarSettings = { version: '1.2.3', sha256: 'ab'.repeat(32), image: 'node:24-alpine', codeConfigMap: 'code', claimsConfigMap: 'claims' };

function template(): V1PodTemplateSpec {
  return {
    metadata: { labels: { app: 'shop' } },
    spec: {
      initContainers: [{ name: 'istio-proxy', image: 'proxy', restartPolicy: 'Always', ports: [{ containerPort: 15000 }] }],
      containers: [
        {
          name: 'app',
          image: 'shop',
          ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 15080, hostPort: 15081 }],
          readinessProbe: { httpGet: { path: '/ready', port: 15001 as never } },
          livenessProbe: { httpGet: { path: '/live', port: 'http' as never } },
        },
      ],
    },
  };
}

describe('injection plan', () => {
  it('chooses sidecar ports that no container, native sidecar, host port or probe of the pod uses', () => {
    assert.deepEqual([...usedPorts(template())].sort((a, b) => a - b), [8080, 15000, 15001, 15080, 15081]);
    const { record, changed, listenPort } = planInjection(template(), undefined, 8080, settings);
    assert.equal(changed, true);
    assert.equal(record.controlPort, 15002);
    assert.equal(record.healthPort, 15003);
    assert.equal(listenPort, 15082);
    assert.deepEqual(record.ports, [{ appPort: 8080, listenPort: 15082 }]);
  });

  it('reuses a sidecar that already maps the port, and adds a mapping for another port without moving the others', () => {
    const first = planInjection(template(), undefined, 8080, settings);
    const again = planInjection(template(), first.record, 8080, settings);
    assert.equal(again.changed, false);
    assert.equal(again.listenPort, first.listenPort);
    const second = planInjection(template(), first.record, 9090, { ...settings, version: '9.9.9' });
    assert.equal(second.changed, true);
    assert.deepEqual(second.record.ports, [...first.record.ports, { appPort: 9090, listenPort: 15083 }]);
    assert.equal(second.record.controlPort, first.record.controlPort);
    assert.equal(second.record.version, '1.2.3', 'the running sidecar keeps its version');
  });

  it('writes a sidecar that meets the restricted Pod Security Standard, with probes, resources and the runtime settings', () => {
    const { record } = planInjection(template(), undefined, 8080, settings);
    const c = sidecarContainer(record);
    assert.deepEqual(c.command, ['node', ...SIDECAR_NODE_ARGS, '/intercept/intercept-proxy.js']);
    assert.deepEqual(c.args, ['--listen', '15082:8080', '--control-port', '15002', '--health-port', '15003', '--claims-dir', '/intercept-claims']);
    assert.deepEqual(c.env, Object.entries(SIDECAR_ENV).map(([name, value]) => ({ name, value })));
    assert.equal(c.readinessProbe?.httpGet?.port, 15003);
    assert.ok(c.resources?.requests?.cpu && c.resources.limits?.memory);
    const sc = c.securityContext!;
    assert.equal(sc.runAsNonRoot, true);
    assert.ok((sc.runAsUser ?? 0) > 0);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities?.drop, ['ALL']);
    assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(c.ports?.some((p) => p.containerPort === record.controlPort), false, 'the control port is not declared');
  });

  it('gives the sidecar the grace period chosen at the first injection, and keeps it when a port is added later', () => {
    const first = planInjection(template(), undefined, 8080, { ...settings, graceSeconds: 45 });
    assert.equal(first.record.graceSeconds, 45);
    assert.deepEqual(sidecarContainer(first.record).args?.slice(-2), ['--grace', '45']);
    const second = planInjection(template(), first.record, 9090, { ...settings, graceSeconds: 5 });
    assert.equal(second.record.graceSeconds, 45, 'teammates\' sidecar keeps its grace');
    const none = planInjection(template(), undefined, 8080, settings);
    assert.equal(none.record.graceSeconds, undefined);
    assert.ok(!sidecarContainer(none.record).args?.includes('--grace'), 'the sidecar\'s own default otherwise');
  });

  it('lets claim holders dial out of the pod only when the first injection asked for it', () => {
    const first = planInjection(template(), undefined, 8080, { ...settings, outbound: true });
    assert.equal(first.record.outbound, true);
    assert.ok(sidecarContainer(first.record).args?.includes('--outbound'));
    const later = planInjection(template(), first.record, 9090, settings);
    assert.equal(later.record.outbound, true, 'kept when a port is added');
    assert.ok(!sidecarContainer(planInjection(template(), undefined, 8080, settings).record).args?.includes('--outbound'));
  });

  it('records the injection on the workload so it can be read back', () => {
    const { record } = planInjection(template(), undefined, 8080, settings);
    const body = workloadApply({ kind: 'Deployment', name: 'shop', namespace: 'ns', object: {} }, record) as { metadata: { annotations: Record<string, string> } };
    assert.deepEqual(readInjection(body.metadata.annotations), record);
    assert.equal(readInjection({ [ANNOTATION_INJECTION]: 'not json' }), undefined);
  });
});

function service(targetPort: string | number | undefined, annotations?: Record<string, string>): V1Service {
  return {
    metadata: { name: 'shop', ...(annotations ? { annotations } : {}) },
    spec: { selector: { app: 'shop' }, ports: [{ name: 'grpc', port: 9000 }, { name: 'web', port: 80, protocol: 'TCP', ...(targetPort !== undefined ? { targetPort: targetPort } : {}) }] },
  };
}

/** Applies the JSON patch operations the plan uses, to check what the Service becomes. */
function apply(obj: V1Service, ops: ReturnType<typeof serviceInterceptPatch>): V1Service {
  const copy = structuredClone(obj) as unknown as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: Record<string, unknown> = copy;
    for (const p of parts) parent = parent[p] as Record<string, unknown>;
    if (op.op === 'test') assert.deepEqual(parent[last], op.value, `test of ${op.path}`);
    else if (op.op === 'remove') delete parent[last];
    else parent[last] = op.value;
  }
  return copy;
}

describe('service patches', () => {
  for (const [label, target] of [
    ['a named', 'http'],
    ['a numeric', 8080],
  ] as const) {
    it(`moves ${label} targetPort to the sidecar and back exactly, testing the value it read`, () => {
      const before = service(target);
      const ops = serviceInterceptPatch(before, before.spec!.ports![1]!, 15080);
      assert.deepEqual(ops.find((o) => o.op === 'test' && o.path.endsWith('targetPort')), { op: 'test', path: '/spec/ports/1/targetPort', value: target });
      const moved = apply(before, ops);
      assert.equal(moved.spec!.ports![1]!.targetPort, 15080);
      assert.deepEqual(JSON.parse(moved.metadata!.annotations![ANNOTATION_SERVICE]!), { '80/TCP': { original: target, listenPort: 15080 } });
      const restored = apply(moved, serviceRestorePatch(moved, '80/TCP'));
      assert.deepEqual(restored, before);
    });
  }

  it('keeps the other annotations and removes only its own', () => {
    const before = service('http', { team: 'shop' });
    const moved = apply(before, serviceInterceptPatch(before, before.spec!.ports![1]!, 15080));
    assert.equal(moved.metadata!.annotations!.team, 'shop');
    assert.deepEqual(apply(moved, serviceRestorePatch(moved, '80/TCP')), before);
  });

  it('leaves a port someone else changed since, and only drops its record', () => {
    const before = service('http');
    const moved = apply(before, serviceInterceptPatch(before, before.spec!.ports![1]!, 15080));
    moved.spec!.ports![1]!.targetPort = 9999;
    const ops = serviceRestorePatch(moved, '80/TCP');
    assert.equal(ops.some((o) => o.path.endsWith('targetPort')), false);
    const after = apply(moved, ops);
    assert.equal(after.spec!.ports![1]!.targetPort, 9999);
    assert.equal(after.metadata?.annotations, undefined);
  });

  it('has nothing to restore on a port it never moved', () => {
    assert.deepEqual(serviceRestorePatch(service('http'), '80/TCP'), []);
  });
});
