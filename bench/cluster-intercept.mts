// npm run bench (second part): the intercept against the test cluster.
//   * time from "intercept" to the first routed request: with the sidecar already in place (tunnels
//     and the claim only) and without it (inject, rollout, Service, then the same), median of 5 runs;
//   * an intercepted request's latency and a 100 MB body's throughput through the API server's
//     port-forward, beside the same sidecar reached over a plain loopback tunnel into the pod.
// It starts the test cluster (scripts/cluster/cluster.mjs) and takes it down after. It passes or fails
// nothing: it prints a table and writes bench/results/cluster.json.
//   BENCH_CLUSTER_RUNS (5), BENCH_LATENCY_REQUESTS (500), BENCH_BODY_MB (100)
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { down, up } from '../scripts/cluster/cluster.mjs';
import { PodRunner, createTestNamespace, deleteNamespace, httpOverStream, loadKubeConfig, repoRoot, waitFor } from '../test/harness/cluster/index.js';
import { builtSidecar, createApp } from '../test/harness/cluster/apps.js';
import { KeepAliveClient } from '../test/harness/cluster/keep-alive.js';
import { KubeClient } from '../src/core/kube/kube-client.js';
import { openPortForward } from '../src/core/kube/port-forward.js';
import { Injector, type Injection } from '../src/core/session/injector.js';
import { InterceptSession } from '../src/core/session/intercept-session.js';
import { TunnelClient } from '../src/core/tunnel/tunnel-client.js';

const RUNS = Number(process.env.BENCH_CLUSTER_RUNS ?? 5);
const LATENCY_REQUESTS = Number(process.env.BENCH_LATENCY_REQUESTS ?? 500);
const BODY_BYTES = Number(process.env.BENCH_BODY_MB ?? 100) * 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;

/** The developer's program: a short answer, or the byte count of a body it read. */
async function localProgram(): Promise<{ port: number; close: () => void }> {
  const server = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      const body = req.method === 'POST' ? String(n) : 'laptop';
      res.writeHead(200, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

async function main(): Promise<void> {
  await up();
  const kc = loadKubeConfig();
  const ns = await createTestNamespace(kc, 'bench');
  const runner = await PodRunner.start({ kubeConfig: kc, namespace: ns });
  const client = new KubeClient(kc);
  const build = await builtSidecar();
  const local = await localProgram();
  const injector = new Injector({ client, build });
  const target = { namespace: ns, service: 'bench', port: 80 };
  try {
    await createApp(kc, ns, 'bench', { replicas: 1, targetPort: 'http', servicePort: 80 });
    await runner.waitForRunning(1, 90_000);

    /** Intercept, then the first claimed request answered by the local program, asked inside the pod. */
    const firstRouted = async (injection: Injection | undefined): Promise<{ ms: number; session: InterceptSession; injection: Injection }> => {
      const t0 = performance.now();
      const inj = injection ?? (await injector.inject(target));
      const session = new InterceptSession({ client, injection: inj, claim: { header: 'x-intercept-id', value: 'bench-1' }, developer: 'bench', local: { host: '127.0.0.1', port: local.port } });
      await session.start();
      const pod = [...session.pods().keys()][0]!;
      await waitFor('the pod running under the runner', () => runner.pod(pod));
      const conn = new KeepAliveClient(await runner.connect(pod, inj.listenPort));
      const r = await conn.request('GET', '/first', { host: 'bench', 'x-intercept-id': 'bench-1' });
      conn.close();
      if (r.body.toString() !== 'laptop') throw new Error(`the first request was not routed: ${r.status}`);
      return { ms: performance.now() - t0, session, injection: inj };
    };

    const cold: number[] = [];
    const warm: number[] = [];
    let last: { session: InterceptSession; injection: Injection } | undefined;
    for (let i = 0; i < RUNS; i++) {
      const c = await firstRouted(undefined);
      cold.push(c.ms);
      await c.session.stop();
      const w = await firstRouted(c.injection);
      warm.push(w.ms);
      await w.session.stop();
      last = w;
      if (i < RUNS - 1) {
        await injector.remove({ namespace: ns, service: 'bench' });
        await waitFor('the pod without the sidecar running', () => runner.running().length === 1 && !runner.running()[0]!.containers.some((x) => x.name === 'intercept-proxy'), { timeoutMs: 90_000 });
      }
      console.log(`bench: cluster: run ${i + 1}/${RUNS}: without the sidecar ${cold[i]!.toFixed(0)} ms, with it ${warm[i]!.toFixed(0)} ms`);
    }

    // Latency and throughput: the same pod and sidecar, the tunnel through the API server's
    // port-forward (as the extension runs it) or over a plain loopback connection into the pod.
    const injection = last!.injection;
    const pod = await waitFor('one running pod with the sidecar', () => runner.running().find((p) => p.containers.some((x) => x.name === 'intercept-proxy')));
    const measure = async (label: string, dial: () => Promise<Duplex>) => {
      const tunnel = new TunnelClient({ dial, claim: { header: 'x-intercept-id', value: `bench-${label}` }, developer: 'bench', port: injection.listenPort, local: { host: '127.0.0.1', port: local.port } });
      await tunnel.start();
      const conn = new KeepAliveClient(await runner.connect(pod.name, injection.listenPort));
      const times: number[] = [];
      for (let i = 0; i < LATENCY_REQUESTS; i++) {
        const t = performance.now();
        await conn.request('GET', '/l', { host: 'bench', 'x-intercept-id': `bench-${label}` });
        times.push(performance.now() - t);
      }
      const body = Buffer.alloc(BODY_BYTES, 7);
      const t = performance.now();
      const upload = await httpOverStream(
        await runner.connect(pod.name, injection.listenPort),
        { method: 'POST', path: '/upload', headers: { host: 'bench', 'x-intercept-id': `bench-${label}` }, body, timeoutMs: 600_000 },
        `a ${BODY_BYTES} byte upload through the ${label} tunnel`,
      );
      const posted = upload.body.toString();
      const seconds = (performance.now() - t) / 1000;
      if (posted !== String(BODY_BYTES)) throw new Error(`the body arrived short: ${posted}`);
      conn.close();
      await tunnel.close();
      return { medianMs: median(times), p99Ms: quantile(times, 0.99), mbPerSecond: BODY_BYTES / 1024 / 1024 / seconds };
    };
    // The unclaimed baseline: the same keep-alive path into the pod, answered by the app beside it.
    const baseConn = new KeepAliveClient(await runner.connect(pod.name, injection.listenPort));
    const baseTimes: number[] = [];
    for (let i = 0; i < LATENCY_REQUESTS; i++) {
      const t = performance.now();
      await baseConn.request('GET', '/b', { host: 'bench' });
      baseTimes.push(performance.now() - t);
    }
    baseConn.close();
    const viaApi = await measure('api', () => openPortForward(client.apiServerAccess(), ns, pod.name, injection.record.controlPort));
    const viaLoopback = await measure('loopback', () => runner.connect(pod.name, injection.record.controlPort));

    const summary = {
      firstRoutedMs: { withoutSidecar: median(cold), withSidecar: median(warm), runs: { withoutSidecar: cold, withSidecar: warm } },
      unclaimedMedianMs: median(baseTimes),
      intercepted: { apiServerPortForward: viaApi, loopbackTunnel: viaLoopback },
    };
    const f = (n: number, d = 1) => n.toFixed(d);
    console.log(`\nintercept on the test cluster (medians of ${RUNS} runs; ${LATENCY_REQUESTS} sequential requests; a ${BODY_BYTES / 1024 / 1024} MB body)`);
    console.log(`  intercept → first routed request: ${f(summary.firstRoutedMs.withoutSidecar, 0)} ms without the sidecar in place, ${f(summary.firstRoutedMs.withSidecar, 0)} ms with it`);
    console.log(`  unclaimed request through the sidecar to the app: median ${f(summary.unclaimedMedianMs, 2)} ms`);
    for (const [name, r] of [['API server port-forward', viaApi], ['plain loopback tunnel', viaLoopback]] as const) {
      console.log(`  intercepted via ${name}: median ${f(r.medianMs, 2)} ms (adds ${f(r.medianMs - summary.unclaimedMedianMs, 2)}), p99 ${f(r.p99Ms, 2)} ms; ${BODY_BYTES / 1024 / 1024} MB body at ${f(r.mbPerSecond)} MB/s`);
    }
    mkdirSync(path.join(repoRoot, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(repoRoot, 'bench', 'results', 'cluster.json'), JSON.stringify({ date: new Date().toISOString(), ...summary }, null, 2));
    console.log('written: bench/results/cluster.json');
  } finally {
    local.close();
    await runner.stop();
    await deleteNamespace(kc, ns).catch(() => undefined);
    await down();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
