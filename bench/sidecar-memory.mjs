// The sidecar's memory, as a pod pays it (RSS from /proc), on a fresh sidecar process:
//   idle            started, no traffic
//   tunnel churn    RSS after warm-up cycles of tunnel connect/release, and after `tunnelCycles` more
//   saturation      highest RSS while wrk drives 50 connections as fast as they go
//   idle conns      RSS with `idleConnections` open connections that send nothing, and per connection
//   peak            highest RSS while `requestConnections` of them (all, if the open-file limit
//                   lets the sidecar hold as many connections to the app too) send one request each
import { once } from 'node:events';
import * as net from 'node:net';
import path from 'node:path';
import { openFiles, root, rssOf, rssParts, rssSampler, sleep, start, startSidecar, stop, wrk } from './tools.mjs';

const SETTLE_MS = 2000;

async function tunnelChurn(pid, controlPort, devPort, warmUp, cycles) {
  const { child } = await start('node', ['--import', 'tsx', path.join(root, 'bench/tunnel-cycles.ts'), String(controlPort), String(devPort), String(warmUp), String(cycles)], /warm/, {
    stdin: 'pipe',
  });
  await sleep(500);
  const afterWarmUp = rssOf(pid);
  const sampler = rssSampler(pid, 200);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stdin.write('go\n');
  await once(child, 'exit');
  const m = /done (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`tunnel cycles did not finish:\n${out}`);
  const peak = sampler.stop();
  // The floor of the last fifth of the run: what is left when the garbage of the last cycles is collected.
  const settled = Math.min(...sampler.samples.slice(-Math.max(1, Math.floor(sampler.samples.length / 5))));
  // The floor of each fifth: a leak climbs from fifth to fifth, a heap finding its size levels off.
  // The private part apart: the node binary's pages grow as more of its code runs, and are shared.
  const fifth = Math.max(1, Math.floor(sampler.samples.length / 5));
  const floorsOf = (samples) => [0, 1, 2, 3, 4].map((i) => Math.min(...samples.slice(i * fifth, (i + 1) * fifth))).filter(Number.isFinite);
  const floors = floorsOf(sampler.samples);
  const privateFloors = floorsOf(sampler.privateSamples);
  await sleep(1000);
  return { warmUp, cycles, ms: Number(m[2]), afterWarmUp, settled, floors, privateFloors, after: rssParts(pid), peak };
}

/** Opens `n` connections that send nothing; resolves once the sidecar holds all of them. */
async function openIdle(pid, port, n) {
  const fdsBefore = openFiles(pid);
  const sockets = [];
  for (let i = 0; i < n; i += 250) {
    const batch = Array.from({ length: Math.min(250, n - i) }, () => net.connect({ host: '127.0.0.1', port }));
    await Promise.all(batch.map((s) => once(s, 'connect')));
    sockets.push(...batch);
  }
  for (const s of sockets) s.on('error', () => undefined);
  const deadline = Date.now() + 30_000;
  while (openFiles(pid) < fdsBefore + n && Date.now() < deadline) await sleep(100);
  return sockets;
}

/** Sends one request on every connection at once; resolves when all are answered. */
async function oneRequestEach(sockets) {
  let answered = 0;
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise((resolve) => {
          let got = '';
          const timer = setTimeout(resolve, 60_000);
          s.setEncoding('latin1');
          s.on('data', (c) => {
            got += c;
            if (got.endsWith('hello from app\n')) {
              answered++;
              clearTimeout(timer);
              resolve();
            }
          });
          s.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          s.write('GET / HTTP/1.1\r\nhost: bench\r\n\r\n');
        }),
    ),
  );
  return answered;
}

export async function measureSidecarMemory({ bundle, node, nodeArgs, env, appPort, devPort, seconds, connections, idleConnections, requestConnections, tunnelCycles, warmUpCycles, progress }) {
  const { child, listenPort, controlPort } = await startSidecar(bundle, nodeArgs, env, appPort, node);
  const pid = child.pid;
  try {
    await sleep(SETTLE_MS);
    const idle = rssParts(pid);
    progress(`idle ${(idle.rss / 1048576).toFixed(1)} MB; ${warmUpCycles} + ${tunnelCycles} tunnel connect/release cycles ...`);
    const churn = await tunnelChurn(pid, controlPort, devPort, warmUpCycles, tunnelCycles);

    progress(`saturation, ${connections} connections ...`);
    let sampler = rssSampler(pid);
    const sat = await wrk(listenPort, { connections, seconds });
    const saturationPeak = sampler.stop();
    const saturationPrivatePeak = Math.max(...sampler.privateSamples);
    await sleep(SETTLE_MS);

    progress(`${idleConnections} idle connections ...`);
    const beforeIdleConns = rssParts(pid);
    const sockets = await openIdle(pid, listenPort, idleConnections);
    await sleep(SETTLE_MS);
    const withIdleConns = rssParts(pid);
    progress(`one request on each of ${requestConnections} of them ...`);
    const fdsBefore = openFiles(pid);
    for (const s of sockets.splice(requestConnections)) s.destroy();
    const deadline = Date.now() + 10_000;
    while (openFiles(pid) > fdsBefore - (idleConnections - requestConnections) && Date.now() < deadline) await sleep(50);
    sampler = rssSampler(pid);
    const answered = await oneRequestEach(sockets);
    const requestPeak = sampler.stop();
    for (const s of sockets) s.destroy();
    return {
      idle,
      churn,
      saturation: { rps: sat.rps, peak: saturationPeak, privatePeak: saturationPrivatePeak, errors: sat.errors },
      idleConnections: {
        count: idleConnections,
        before: beforeIdleConns.rss,
        with: withIdleConns.rss,
        perConnection: (withIdleConns.rss - beforeIdleConns.rss) / idleConnections,
        privatePerConnection: (withIdleConns.anon - beforeIdleConns.anon) / idleConnections,
      },
      oneRequestEach: { count: requestConnections, answered, peak: requestPeak },
    };
  } finally {
    await stop(child);
  }
}
