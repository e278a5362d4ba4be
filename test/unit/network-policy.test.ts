import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { policiesBlockingSidecar, selectorMatches } from '../../src/core/kube/network-policy';

const policy = (name: string, spec: V1NetworkPolicy['spec']): V1NetworkPolicy => ({ metadata: { name }, spec });
const shop = { app: 'shop', tier: 'web' };
const app = { port: 8080, name: 'http' };

describe('NetworkPolicies and the sidecar port', () => {
  it('finds a policy that lets the app port in, by number or name, but not the sidecar port', () => {
    const byNumber = policy('allow-8080', { podSelector: { matchLabels: { app: 'shop' } }, ingress: [{ ports: [{ port: 8080 }] }] });
    assert.deepEqual(policiesBlockingSidecar([byNumber], shop, app, 15080), ['allow-8080']);
    const byName = policy('allow-http', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'http', protocol: 'TCP' }] }] });
    assert.deepEqual(policiesBlockingSidecar([byName], shop, app, 15080), ['allow-http']);
  });

  it('is content when any selecting policy opens the sidecar port, all ports, or a range holding it', () => {
    const app8080 = policy('allow-8080', { podSelector: {}, ingress: [{ ports: [{ port: 8080 }] }] });
    assert.deepEqual(policiesBlockingSidecar([app8080, policy('all', { podSelector: {}, ingress: [{}] })], shop, app, 15080), []);
    assert.deepEqual(policiesBlockingSidecar([app8080, policy('range', { podSelector: {}, ingress: [{ ports: [{ port: 15000, endPort: 15999 }] }] })], shop, app, 15080), []);
  });

  it('ignores policies that do not select the pods or only limit egress', () => {
    const other = policy('db-only', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ ports: [{ port: 8080 }] }] });
    const egress = policy('egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] });
    assert.deepEqual(policiesBlockingSidecar([other, egress], shop, app, 15080), []);
  });

  it('matches label selectors with expressions as Kubernetes does', () => {
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, shop), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, shop), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, shop), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, shop), false);
    assert.equal(selectorMatches({}, shop), true);
  });
});
