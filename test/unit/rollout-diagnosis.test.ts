import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { diagnoseRollout, rolloutProgress } from '../../src/core/session/rollout-diagnosis';

const deployment = (spec: Partial<V1Deployment['spec']> = {}, status: V1Deployment['status'] = {}, generation = 2): V1Deployment => ({
  metadata: { name: 'shop', namespace: 'ns', generation },
  spec: { replicas: 3, selector: {}, template: {}, ...spec },
  status,
});
const d = (o: V1Deployment) => ({ kind: 'Deployment' as const, name: 'shop', namespace: 'ns', object: o });
const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'shop-1' }, status });

describe('rollout progress and stalls', () => {
  it('is complete only when the new template is observed, updated, available on every replica, with no old pod', () => {
    const done = { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 };
    assert.equal(rolloutProgress(d(deployment({}, done))).complete, true);
    assert.equal(rolloutProgress(d(deployment({}, { ...done, observedGeneration: 1 }))).complete, false, 'the controller has not seen the change');
    assert.equal(rolloutProgress(d(deployment({}, { ...done, replicas: 4 }))).complete, false, 'an old pod is left');
    assert.equal(rolloutProgress(d(deployment({}, { ...done, availableReplicas: 2 }))).complete, false);
    const sts: V1StatefulSet = { metadata: { generation: 1 }, spec: { replicas: 2, selector: {}, template: {}, serviceName: 's' }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, currentRevision: 'a', updateRevision: 'b' } };
    assert.equal(rolloutProgress({ kind: 'StatefulSet', name: 's', namespace: 'ns', object: sts }).complete, false, 'revisions differ');
  });

  it('explains a stall in terms the developer can act on', () => {
    assert.match(diagnoseRollout(d(deployment({ paused: true })), [], []) ?? '', /paused/);
    const quota = { status: { replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', message: 'pods "x" is forbidden: exceeded quota: compute' }] } };
    assert.match(diagnoseRollout(d(deployment()), [], [quota]) ?? '', /exceeded quota/);
    const pull = pod({ containerStatuses: [{ name: 'intercept-proxy', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }] });
    assert.match(diagnoseRollout(d(deployment()), [pull], []) ?? '', /intercept-proxy: ImagePullBackOff/);
    const unschedulable = pod({ conditions: [{ type: 'PodScheduled', status: 'False', message: '0/3 nodes are available: Insufficient cpu' }] });
    assert.match(diagnoseRollout(d(deployment()), [unschedulable], []) ?? '', /Insufficient cpu/);
    const unready = pod({ phase: 'Running', containerStatuses: [{ name: 'intercept-proxy', image: 'x', imageID: '', ready: false, restartCount: 0, state: { running: {} } }] });
    assert.match(diagnoseRollout(d(deployment()), [unready], []) ?? '', /readiness probe of intercept-proxy fails/);
    assert.equal(diagnoseRollout(d(deployment()), [pod({ phase: 'Pending' })], []), undefined, 'a pod on its way is no stall');
  });
});
