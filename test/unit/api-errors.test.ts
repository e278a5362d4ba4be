import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { failureOf, parseForbidden } from '../../src/core/kube/api-errors';

const action = { verb: 'list', resource: 'services', namespace: 'shop' };
const status = (code: number, message: string) => new ApiException(code, 'x', JSON.stringify({ kind: 'Status', message }), {});

describe('API failures as typed results', () => {
  it('names the verb, resource and namespace RBAC refused, from the Status message', () => {
    const msg = 'pods "shop-1" is forbidden: User "system:serviceaccount:shop:dev" cannot create resource "pods/portforward" in API group "" in the namespace "shop"';
    assert.deepEqual(parseForbidden(msg), { verb: 'create', resource: 'pods/portforward', group: '', namespace: 'shop' });
    const f = failureOf(status(403, msg), action);
    assert.equal(f.kind, 'forbidden');
    assert.ok(f.kind === 'forbidden' && f.verb === 'create' && f.resource === 'pods/portforward' && f.namespace === 'shop');
    assert.match(f.hint, /grant "create" on "pods\/portforward"/);
    const apps = failureOf(status(403, 'deployments.apps "shop" is forbidden: User "x" cannot patch resource "deployments" in API group "apps" in the namespace "shop"'), action);
    assert.ok(apps.kind === 'forbidden' && apps.resource === 'deployments.apps');
  });

  it('tells credentials, conflicts, refusals and missing objects apart', () => {
    assert.equal(failureOf(new ApiException(401, 'Unauthorized', undefined, {}), action).kind, 'unauthorized');
    assert.equal(failureOf(status(409, 'the object has been modified'), action).kind, 'conflict');
    const rejected = failureOf(status(422, 'Deployment.apps "shop" is invalid'), action);
    assert.equal(rejected.kind, 'rejected');
    assert.match(rejected.message, /is invalid/);
    assert.equal(failureOf(status(404, 'services "x" not found'), { ...action, name: 'x' }).kind, 'not-found');
    assert.equal(failureOf(status(500, 'boom'), action).kind, 'unexpected');
  });

  it('tells an unreachable server from a TLS failure by the socket error code, also when wrapped', () => {
    const refused = Object.assign(new Error('request failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const u = failureOf(refused, action, 'https://127.0.0.1:6443');
    assert.equal(u.kind, 'unreachable');
    assert.match(u.message, /127\.0\.0\.1:6443/);
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    assert.equal(failureOf(tls, action).kind, 'tls');
    assert.equal(failureOf(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), action).kind, 'tls');
  });
});
