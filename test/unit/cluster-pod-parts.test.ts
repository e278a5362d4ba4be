// The test cluster's pod runner, the parts that need no cluster: container paths rewritten to host
// folders, the files a configMap/secret volume holds and the kubelet's layout they are written in,
// readinessProbe resolution, and the status a pod reports. (The harness is ES modules, so they are
// imported dynamically from this CommonJS test.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

import type * as MountPaths from '../harness/cluster/mount-paths.js' with { 'resolution-mode': 'import' };
import type * as VolumeFilesModule from '../harness/cluster/volume-files.js' with { 'resolution-mode': 'import' };
import type * as Probe from '../harness/cluster/readiness-probe.js' with { 'resolution-mode': 'import' };
import type * as PodStatus from '../harness/cluster/pod-status.js' with { 'resolution-mode': 'import' };

let mp: typeof MountPaths;
let vf: typeof VolumeFilesModule;
let probe: typeof Probe;
let ps: typeof PodStatus;

before(async () => {
  mp = await import('../harness/cluster/mount-paths.js');
  vf = await import('../harness/cluster/volume-files.js');
  probe = await import('../harness/cluster/readiness-probe.js');
  ps = await import('../harness/cluster/pod-status.js');
});

describe('container paths to host paths', () => {
  const mounts = [
    { mountPath: '/intercept', hostPath: '/host/pod/volumes/code', readOnly: true },
    { mountPath: '/intercept/claims', hostPath: '/host/pod/volumes/claims', readOnly: true },
    { mountPath: '/etc/token', hostPath: '/host/pod/volumes/token', readOnly: true },
  ];
  const cases: Array<[string, string]> = [
    ['/intercept/intercept-proxy.js', '/host/pod/volumes/code/intercept-proxy.js'],
    ['/intercept', '/host/pod/volumes/code'],
    ['/intercept/claims/claims.json', '/host/pod/volumes/claims/claims.json'],
    ['--claims-file=/intercept/claims/claims.json', '--claims-file=/host/pod/volumes/claims/claims.json'],
    ['/bin:/intercept:/usr/bin', '/bin:/host/pod/volumes/code:/usr/bin'],
    ['/etc/token/token', '/host/pod/volumes/token/token'],
    ['/intercepted/x.js', '/intercepted/x.js'],
    ['relative/intercept/x.js', 'relative/intercept/x.js'],
    ['x/intercept/a', 'x/intercept/a'],
    ['--listen', '--listen'],
  ];
  for (const [value, expected] of cases) {
    it(`${value} -> ${expected}`, () => assert.equal(mp.toHostPaths(value, mounts), expected));
  }
  it('leaves a value alone without mounts, and never maps a mount at /', () => {
    assert.equal(mp.toHostPaths('/intercept/x.js', []), '/intercept/x.js');
    assert.equal(mp.toHostPaths('/etc/passwd', [{ mountPath: '/', hostPath: '/host', readOnly: false }]), '/etc/passwd');
  });
});

describe('files of configMap and secret volumes', () => {
  const cm: V1ConfigMap = {
    metadata: { name: 'code' },
    data: { 'a.js': 'console.log(1)', 'b.txt': 'bee' },
    binaryData: { 'c.bin': Buffer.from([0, 1, 2, 255]).toString('base64') },
  };
  const secret: V1Secret = { metadata: { name: 'token' }, data: { token: Buffer.from('s3cret').toString('base64') } };
  const sources = { configMap: (n: string) => (n === 'code' ? cm : undefined), secret: (n: string) => (n === 'token' ? secret : undefined) };
  const text = (files: Map<string, { content: Buffer; mode: number }>) =>
    Object.fromEntries([...files].map(([k, f]) => [k, [f.content.toString('hex'), f.mode.toString(8)]]));

  it('one file per key of data and binaryData, mode 0644 unless defaultMode says otherwise', () => {
    const r = vf.volumeFiles({ name: 'v', configMap: { name: 'code' } }, sources);
    assert.ok(r && 'files' in r);
    assert.deepEqual(text(r.files), {
      'a.js': [Buffer.from('console.log(1)').toString('hex'), '644'],
      'b.txt': [Buffer.from('bee').toString('hex'), '644'],
      'c.bin': ['000102ff', '644'],
    });
    const s = vf.volumeFiles({ name: 'v', secret: { secretName: 'token', defaultMode: 0o400 } }, sources);
    assert.ok(s && 'files' in s);
    assert.deepEqual(text(s.files), { token: [Buffer.from('s3cret').toString('hex'), '400'] });
  });

  it('items pick keys, put them at their path and may set their own mode', () => {
    const r = vf.volumeFiles(
      { name: 'v', configMap: { name: 'code', defaultMode: 0o440, items: [{ key: 'b.txt', path: 'dir/bee' }, { key: 'a.js', path: 'a.js', mode: 0o755 }] } },
      sources,
    );
    assert.ok(r && 'files' in r);
    assert.deepEqual(Object.keys(text(r.files)).sort(), ['a.js', 'dir/bee']);
    assert.equal(r.files.get('dir/bee')!.mode, 0o440);
    assert.equal(r.files.get('a.js')!.mode, 0o755);
  });

  it('a missing object or key is an error unless the volume is optional; other kinds are not ours', () => {
    assert.deepEqual(vf.volumeFiles({ name: 'v', configMap: { name: 'nope' } }, sources), { error: 'configmap "nope" not found' });
    assert.deepEqual(vf.volumeFiles({ name: 'v', secret: { secretName: 'nope' } }, sources), { error: 'secret "nope" not found' });
    assert.deepEqual(vf.volumeFiles({ name: 'v', configMap: { name: 'code', items: [{ key: 'zz', path: 'zz' }] } }, sources), {
      error: 'configmap "code" references non-existent config key: zz',
    });
    const optional = vf.volumeFiles({ name: 'v', configMap: { name: 'nope', optional: true } }, sources);
    assert.ok(optional && 'files' in optional && optional.files.size === 0);
    assert.equal(vf.volumeFiles({ name: 'v', emptyDir: {} }, sources), undefined);
  });

  describe('written in the kubelet layout', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'volume-files-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const files = (entries: Record<string, string>) =>
      new Map(Object.entries(entries).map(([k, v]) => [k, { content: Buffer.from(v), mode: 0o644 }]));

    it('names link through ..data to a timestamped folder; an update swaps ..data and drops what is gone', () => {
      vf.writeVolumeFiles(dir, files({ 'a.txt': 'one', 'sub/b.txt': 'two' }));
      const first = readlinkSync(path.join(dir, '..data'));
      assert.match(first, /^\.\.\d{4}_\d\d_\d\d_/);
      assert.equal(readlinkSync(path.join(dir, 'a.txt')), path.join('..data', 'a.txt'));
      assert.equal(readlinkSync(path.join(dir, 'sub')), path.join('..data', 'sub'));
      assert.equal(readFileSync(path.join(dir, 'sub', 'b.txt'), 'utf8'), 'two');
      assert.equal(statSync(path.join(dir, first, 'a.txt')).mode & 0o777, 0o644);

      vf.writeVolumeFiles(dir, files({ 'a.txt': 'changed', 'c.txt': 'new' }));
      const second = readlinkSync(path.join(dir, '..data'));
      assert.notEqual(second, first);
      assert.ok(!existsSync(path.join(dir, first)), 'the old folder is removed');
      assert.equal(readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'changed');
      assert.equal(readFileSync(path.join(dir, 'c.txt'), 'utf8'), 'new');
      assert.ok(!existsSync(path.join(dir, 'sub')), 'a name no longer in the volume is gone');
      assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('..')).sort(), ['a.txt', 'c.txt']);
      assert.ok(lstatSync(path.join(dir, 'a.txt')).isSymbolicLink());
    });
  });
});

describe('readinessProbe of a container', () => {
  it('httpGet on a named port, with Kubernetes defaults', () => {
    const p = probe.readinessProbeOf({
      name: 'app',
      ports: [{ name: 'web', containerPort: 8080 }],
      readinessProbe: { httpGet: { port: 'web', path: '/ready', httpHeaders: [{ name: 'X-Probe', value: '1' }] } },
    });
    assert.deepEqual(p, {
      target: { kind: 'http', port: 8080, host: undefined, path: '/ready', headers: { 'x-probe': '1' } },
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1_000,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('tcpSocket on a port number, with its timing', () => {
    const p = probe.readinessProbeOf({
      name: 'app',
      readinessProbe: { tcpSocket: { port: 9000 }, initialDelaySeconds: 2, periodSeconds: 1, timeoutSeconds: 3, successThreshold: 2, failureThreshold: 1 },
    });
    assert.deepEqual(p, {
      target: { kind: 'tcp', port: 9000, host: undefined },
      initialDelayMs: 2_000,
      periodMs: 1_000,
      timeoutMs: 3_000,
      successThreshold: 2,
      failureThreshold: 1,
    });
  });

  it('none without a probe; a clear error for exec, HTTPS and an unknown port name', () => {
    assert.equal(probe.readinessProbeOf({ name: 'app' }), undefined);
    assert.throws(() => probe.readinessProbeOf({ name: 'app', readinessProbe: { exec: { command: ['true'] } } }), /app: exec probes are not supported/);
    assert.throws(
      () => probe.readinessProbeOf({ name: 'app', readinessProbe: { httpGet: { port: 443, scheme: 'HTTPS' } } }),
      /scheme HTTPS is not supported/,
    );
    assert.throws(() => probe.readinessProbeOf({ name: 'app', readinessProbe: { tcpSocket: { port: 'nope' } } }), /no port named "nope"/);
  });
});

describe('status a pod reports', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const now = new Date('2026-01-01T00:01:00Z');
  const pod = (): V1Pod => ({
    metadata: { name: 'p', namespace: 'n', uid: 'u' },
    spec: { containers: [{ name: 'app', image: 'a' }, { name: 'side', image: 's' }] },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'False', lastTransitionTime: t0 },
        { type: 'ContainersReady', status: 'False', lastTransitionTime: t0 },
      ],
      containerStatuses: [
        { name: 'app', image: 'a', imageID: '', ready: false, restartCount: 0, started: true, state: { running: { startedAt: t0 } } },
        { name: 'side', image: 's', imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: t0 } } },
      ],
    },
  });

  it('all containers ready: Ready and ContainersReady turn True with a new transition time', () => {
    const { pod: next, changed } = ps.withContainerReports(pod(), [{ name: 'app', ready: true }, { name: 'side', ready: true }], now);
    assert.ok(changed);
    for (const type of ['Ready', 'ContainersReady']) {
      const c = next.status!.conditions!.find((x) => x.type === type)!;
      assert.equal(c.status, 'True');
      assert.deepEqual(c.lastTransitionTime, now);
      assert.equal(c.reason, undefined);
    }
    assert.deepEqual(next.status!.containerStatuses!.map((s) => s.ready), [true, true]);
    assert.deepEqual(next.status!.containerStatuses![0]!.state!.running!.startedAt, t0, 'a running container keeps its start');
  });

  it('one container unready: the pod is not ready and says which; the same report again changes nothing', () => {
    const once = ps.withContainerReports(pod(), [{ name: 'app', ready: false }, { name: 'side', ready: true }], now);
    const ready = once.pod.status!.conditions!.find((x) => x.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.deepEqual(ready.lastTransitionTime, t0, 'no transition');
    assert.equal(ready.message, 'containers with unready status: [app]');
    const again = ps.withContainerReports(once.pod, [{ name: 'app', ready: false }, { name: 'side', ready: true }], now);
    assert.equal(again.changed, false);
  });

  it('waiting containers are ContainerCreating, not started and not ready', () => {
    const waiting = { reason: 'ContainerCreating', message: 'configmap "x" not found' };
    const { pod: next } = ps.withContainerReports(pod(), [{ name: 'app', ready: false, waiting }, { name: 'side', ready: false, waiting }], now);
    for (const s of next.status!.containerStatuses!) {
      assert.deepEqual(s.state, { waiting });
      assert.equal(s.started, false);
      assert.equal(s.ready, false);
    }
    const started = ps.withContainerReports(next, [{ name: 'app', ready: true }, { name: 'side', ready: true }], now).pod;
    assert.deepEqual(started.status!.containerStatuses![0]!.state, { running: { startedAt: now } });
    assert.equal(started.status!.conditions!.find((x) => x.type === 'Ready')!.status, 'True');
  });
});
