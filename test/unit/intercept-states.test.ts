import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap, V1Service } from '@kubernetes/client-node';
import { portStates, workloadFor } from '../../src/core/cluster/intercept-states';
import type { Workload } from '../../src/core/kube/workloads';
import { announcedClaimFileName, leaseSha256, type AnnouncedClaim } from '../../src/protocol/announced-claim';
import { ANNOTATION_INJECTION, ANNOTATION_SERVICE, LABEL_WORKLOAD } from '../../src/core/session/names';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function workload(name: string, labels: Record<string, string>, injected = true): Workload {
  const record = { v: 1, version: '0.1.0', sha256: 'ab'.repeat(32), image: 'node', codeConfigMap: 'code', claimsConfigMap: `intercept-claims-deployment-${name}`, controlPort: 15090, healthPort: 15091, ports: [{ appPort: 8080, listenPort: 15080 }] };
  return {
    kind: 'Deployment',
    namespace: 'shop',
    name,
    object: { metadata: { name, namespace: 'shop', ...(injected ? { annotations: { [ANNOTATION_INJECTION]: JSON.stringify(record) } } : {}) }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [] } } } },
  };
}

function service(targetPort: number | string, moved: boolean): V1Service {
  return {
    metadata: { name: 'cart', namespace: 'shop', ...(moved ? { annotations: { [ANNOTATION_SERVICE]: JSON.stringify({ '80/TCP': { original: 'http', listenPort: 15080 } }) } } : {}) },
    spec: { selector: { app: 'cart' }, ports: [{ port: 80, protocol: 'TCP', targetPort: targetPort }, { port: 9090, protocol: 'TCP', targetPort: 9090 }] },
  };
}

function claim(developer: string, value: string, lease: string, expiresAt: string, port = 15080): [string, string] {
  const c: AnnouncedClaim = { v: 1, port, header: 'x-intercept-id', value, developer, leaseSha256: leaseSha256(lease), expiresAt };
  return [announcedClaimFileName(port, c.header, value), JSON.stringify(c)];
}

function claimsMap(...entries: [string, string][]): V1ConfigMap {
  return { metadata: { name: 'intercept-claims-deployment-cart', labels: { [LABEL_WORKLOAD]: 'cart' } }, data: Object.fromEntries(entries) };
}

describe('intercept states for the Services tree', () => {
  it('a port not moved to the sidecar is plain, even when the workload carries the proxy', () => {
    const states = portStates(service('http', false), { workloads: [workload('cart', { app: 'cart' })], claimMaps: [], myLeaseHashes: new Set(), now: NOW });
    assert.deepEqual(states.get('80/TCP'), { kind: 'plain' });
    assert.deepEqual(states.get('9090/TCP'), { kind: 'plain' });
  });

  it('a moved port with no live claim is an idle proxy; expired and other ports\' claims do not count', () => {
    const map = claimsMap(claim('bob@laptop', 'bob-1', 'lease-b', '2026-12-01T11:59:59Z'), claim('eve@desk', 'eve-1', 'lease-e', '2026-12-01T12:00:30Z', 15081));
    const states = portStates(service(15080, true), { workloads: [workload('cart', { app: 'cart' })], claimMaps: [map], myLeaseHashes: new Set(), now: NOW });
    assert.deepEqual(states.get('80/TCP'), { kind: 'proxy', listenPort: 15080, claims: [] });
  });

  it('live claims are listed with their holders, this window\'s own first and marked mine', () => {
    const map = claimsMap(claim('bob@laptop', 'bob-1', 'lease-b', '2026-12-01T12:00:20Z'), claim('ana@mac', 'ana-1', 'lease-a', '2026-12-01T12:00:25Z'));
    const states = portStates(service(15080, true), { workloads: [workload('cart', { app: 'cart' })], claimMaps: [map], myLeaseHashes: new Set([leaseSha256('lease-a')]), now: NOW });
    assert.deepEqual(states.get('80/TCP'), {
      kind: 'proxy',
      listenPort: 15080,
      claims: [
        { developer: 'ana@mac', header: 'x-intercept-id', value: 'ana-1', mine: true },
        { developer: 'bob@laptop', header: 'x-intercept-id', value: 'bob-1', mine: false },
      ],
    });
  });

  it('a record whose port was moved back by someone else (targetPort no longer the sidecar\'s) is plain', () => {
    const states = portStates(service(8080, true), { workloads: [workload('cart', { app: 'cart' })], claimMaps: [], myLeaseHashes: new Set(), now: NOW });
    assert.deepEqual(states.get('80/TCP'), { kind: 'plain' });
  });

  it('the workload behind a Service is the one whose pod labels its selector matches, and only when exactly one does', () => {
    const cart = workload('cart', { app: 'cart', tier: 'web' });
    assert.equal(workloadFor(service(80, false), [workload('other', { app: 'other' }), cart])?.name, 'cart');
    assert.equal(workloadFor(service(80, false), [cart, workload('cart-canary', { app: 'cart' })]), undefined);
    assert.equal(workloadFor({ metadata: { name: 'ext', namespace: 'shop' }, spec: { ports: [] } }, [cart]), undefined);
  });
});
