import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import { portRefusal, selects, serviceRefusal } from '../../src/core/kube/interceptability';
import { resolveTargetPort } from '../../src/core/kube/workloads';
import { gitOpsController } from '../../src/core/session/gitops';

const svc = (spec: V1Service['spec'], namespace = 'shop'): V1Service => ({ metadata: { name: 's', namespace }, spec });

describe('which Services can be intercepted', () => {
  it('refuses each kind that has no pods to route from, with its reason', () => {
    assert.equal(serviceRefusal(svc({ type: 'ExternalName', externalName: 'db.example.com' }))?.reason, 'external-name');
    assert.equal(serviceRefusal(svc({ ports: [{ port: 80 }] }))?.reason, 'no-selector');
    assert.equal(serviceRefusal(svc({ selector: {}, ports: [{ port: 80 }] }))?.reason, 'no-selector');
    assert.equal(serviceRefusal(svc({ clusterIP: 'None', selector: { app: 'x' } }))?.reason, 'headless');
    assert.equal(serviceRefusal(svc({ selector: { k8s: 'dns' } }, 'kube-system'))?.reason, 'system-namespace');
    assert.equal(serviceRefusal(svc({ selector: { app: 'x' }, ports: [{ port: 80 }] })), undefined);
  });

  it('refuses UDP and SCTP ports but not TCP ones', () => {
    const s = svc({ selector: { app: 'x' } });
    assert.equal(portRefusal(s, { port: 53, protocol: 'UDP' })?.reason, 'udp-port');
    assert.equal(portRefusal(s, { port: 9, protocol: 'SCTP' })?.reason, 'udp-port');
    assert.equal(portRefusal(s, { port: 80 }), undefined);
  });

  it('matches a selector as a Service does: every label present with its value', () => {
    assert.equal(selects({ app: 'shop' }, { app: 'shop', tier: 'web' }), true);
    assert.equal(selects({ app: 'shop', tier: 'db' }, { app: 'shop', tier: 'web' }), false);
    assert.equal(selects({}, { app: 'shop' }), false);
  });

  it('resolves a named, numeric or omitted targetPort to the app port and its container', () => {
    const t: V1PodTemplateSpec = {
      spec: {
        containers: [
          { name: 'envoy', image: 'e', ports: [{ name: 'admin', containerPort: 9901 }] },
          { name: 'app', image: 'a', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] },
        ],
      },
    };
    assert.deepEqual(resolveTargetPort({ port: 80, targetPort: 'http' }, t), { appPort: 8080, container: 'app', original: 'http' });
    assert.deepEqual(resolveTargetPort({ port: 80, targetPort: 8080 }, t), { appPort: 8080, container: 'app', original: 8080 });
    assert.deepEqual(resolveTargetPort({ port: 8080 }, t), { appPort: 8080, container: 'app', original: undefined });
    assert.deepEqual(resolveTargetPort({ port: 80, targetPort: 3000 }, t), { appPort: 3000, original: 3000 });
    assert.ok('error' in resolveTargetPort({ port: 80, targetPort: 'grpc' }, t));
    assert.ok('error' in resolveTargetPort({ port: 53, targetPort: 'dns' }, t), 'a UDP container port is not a target');
  });

  it('recognises workloads that Argo CD or Flux keep in sync', () => {
    assert.equal(gitOpsController({ labels: { 'argocd.argoproj.io/instance': 'shop' } }), 'Argo CD');
    assert.equal(gitOpsController({ annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/shop' } }), 'Argo CD');
    assert.equal(gitOpsController({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } }), 'Flux');
    assert.equal(gitOpsController({ labels: { 'helm.toolkit.fluxcd.io/name': 'shop' } }), 'Flux');
    assert.equal(gitOpsController({ labels: { app: 'shop' } }), undefined);
  });
});
