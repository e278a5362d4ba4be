// npm run bench: requests/s, latency and memory on loopback for
//   (a) client → app directly
//   (b) client → sidecar → app (no header: the hot path every teammate takes)
//   (c) client → nginx routing on the same header → app (the reference proxy, one worker)
//   (d) client → sidecar → tunnel → developer's program (with the header)
//   (e) client → a Node process that only pipes bytes → app (bench/node-pipe.mjs): the runtime's floor
// Single runs on a shared machine vary by ±30 %, so (a), (b), (c) and (e) run in interleaved rounds
// (a, b, c, e, then b, c, e, a, ...) and the medians are compared: at about 1,000 req/s (wrk, 5 connections each
// pausing 4 ms between requests; the p99 the sidecar adds over the direct path, and nginx's beside it)
// and at saturation (wrk, 50 connections; sidecar/nginx).
// Then MB/s of a 1 GB upload for (a), (b), (d). The sidecar's memory (bench/sidecar-memory.mjs) is
// measured on a fresh sidecar: idle, over tunnel connect/release cycles, at saturation, with 10,000
// idle connections, and at the peak of one request on each. The sidecar runs with SIDECAR_NODE_ARGS
// and SIDECAR_ENV (src/protocol/constants.ts), as in a pod; BENCH_PLAIN_NODE=1 runs it without them.
// It passes or fails nothing: it prints tables and writes bench/results/latest.json.
//   BENCH_SECONDS (default 10) length of a saturation run; a paced run is 40 % of it
//   BENCH_ROUNDS (5), BENCH_IDLE_CONNECTIONS (10000), BENCH_TUNNEL_CYCLES (10000)
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../src/protocol/constants.ts';
import { podNode } from './pod-node.mjs';
import { measureSidecarMemory } from './sidecar-memory.mjs';
import { freePort, MB, median, raiseFileLimit, root, rssParts, rssSampler, sleep, start, startSidecar, stop, stopAll, stopEvery, track, wrk, wrkPaced } from './tools.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PACED_SECONDS = Math.max(1, Math.round(SECONDS * 0.4));
// 5 connections × (4 ms pause + the request's own time): about 1,000 req/s; the achieved rate is printed.
const PACED = { connections: 5, delayMs: 4 };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 50;
const IDLE_CONNECTIONS = Number(process.env.BENCH_IDLE_CONNECTIONS ?? 10_000);
const TUNNEL_CYCLES = Number(process.env.BENCH_TUNNEL_CYCLES ?? 10_000);
const WARM_UP_CYCLES = 200;
const PLAIN_NODE = process.env.BENCH_PLAIN_NODE === '1';
const UPLOAD_BYTES = 1024 ** 3;
const HEADER = ['x-intercept-id', 'ana-4f2c'];

function ensureTools() {
  const missing = [['wrk', 'wrk'], ['nginx', 'nginx-light']].filter(([bin]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin} || test -x /usr/sbin/${bin}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.log(`bench: installing ${missing.map((m) => m[1]).join(', ')} from Debian's packages`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing.map((m) => m[1])], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  // The package starts a system nginx on port 80; the bench runs its own.
  try {
    execFileSync('sh', ['-c', 'service nginx stop || true'], { stdio: 'ignore' });
  } catch {
    /* not running */
  }
}

/** Uploads 1 GB and returns MB/s (MiB). */
async function upload(port, headers = {}) {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const t0 = performance.now();
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false, headers: { ...headers, 'content-length': UPLOAD_BYTES } });
  for (let sent = 0; sent < UPLOAD_BYTES; sent += chunk.length) if (!req.write(chunk)) await once(req, 'drain');
  req.end();
  const [res] = await once(req, 'response');
  let body = '';
  for await (const c of res) body += c;
  const { bytes } = JSON.parse(body);
  if (bytes !== UPLOAD_BYTES) throw new Error(`upload arrived with ${bytes} bytes`);
  return UPLOAD_BYTES / (1024 * 1024) / ((performance.now() - t0) / 1000);
}

function nginxConfig(dir, port, appPort, devPort) {
  return `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${appPort}; keepalive 64; }
  upstream dev { server 127.0.0.1:${devPort}; keepalive 64; }
  map $http_x_intercept_id $route { default app; "ana-4f2c" dev; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://$route;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`;
}

async function startNginx(appPort, devPort) {
  const nginxPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'intercept-bench-nginx-'));
  writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, nginxPort, appPort, devPort));
  const bin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  track(spawn(bin, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'inherit' }));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => {
      const s = net.connect(nginxPort, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (up) break;
    await sleep(50);
  }
  return { nginxPort, dir };
}

async function main() {
  ensureTools();
  const bundle = path.join(root, 'proxy-image/dist/intercept-proxy.js');
  if (!existsSync(bundle)) throw new Error('build first: node scripts/build.mjs');
  const nodeArgs = PLAIN_NODE ? [] : [...SIDECAR_NODE_ARGS];
  const env = PLAIN_NODE ? {} : { ...SIDECAR_ENV };
  const chosenNode = process.env.BENCH_SIDECAR_NODE;
  const node = chosenNode === 'machine' ? process.execPath : chosenNode || podNode();
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  // Each idle connection takes a descriptor here and in the sidecar; with a request, one more in the
  // sidecar (to the app) and one in the app. Children inherit the limit; where it cannot be raised,
  // fewer connections send a request.
  const fileLimit = raiseFileLimit(65536);
  const idleConnections = Math.max(0, Math.min(IDLE_CONNECTIONS, fileLimit - 200));
  const requestConnections = Math.min(idleConnections, Math.floor((fileLimit - 200) / 2));
  console.log(`bench: sidecar runs as node ${nodeArgs.join(' ')} intercept-proxy.js (Node ${nodeVersion}) ${Object.entries(env).map(([k, v]) => `(${k}=${v})`).join(' ')}`);

  const [appPort, devPort] = await Promise.all([freePort(), freePort()]);
  await start('node', ['bench/hello-server.mjs', 'app', String(appPort)], /port (\d+)/);
  await start('node', ['bench/hello-server.mjs', 'dev', String(devPort)], /port (\d+)/);

  // The runtime's own floor: the same Node, flags and environment running an empty program.
  const { child: bare } = await start(node, [...nodeArgs, '-e', "console.log('ready'); setInterval(() => {}, 1e6)"], /ready/, { env });
  await sleep(2000);
  const bareIdle = rssParts(bare.pid);
  await stop(bare);

  // Memory, on a sidecar of its own.
  const memory = await measureSidecarMemory({
    bundle,
    node,
    nodeArgs,
    env,
    appPort,
    devPort,
    seconds: SECONDS,
    connections: CONNECTIONS,
    idleConnections,
    requestConnections,
    tunnelCycles: TUNNEL_CYCLES,
    warmUpCycles: WARM_UP_CYCLES,
    progress: (what) => console.log(`bench: memory: ${what}`),
  });

  // Throughput and latency.
  const { child: sidecar, listenPort: sidecarPort, controlPort } = await startSidecar(bundle, nodeArgs, env, appPort, node);
  await start('node', ['--import', 'tsx', 'bench/tunnel-peer.ts', String(controlPort), String(devPort)], /ready/);
  const { nginxPort, dir: nginxDir } = await startNginx(appPort, devPort);
  const pipePort = await freePort();
  await start(node, ['bench/node-pipe.mjs', String(pipePort), String(appPort)], /node pipe on port/);
  await sleep(1000);
  const idleWithTunnel = rssParts(sidecar.pid);

  const header = `${HEADER[0]}: ${HEADER[1]}`;
  const paths = {
    a: { label: 'client → app directly', port: appPort, headers: [] },
    b: { label: 'client → sidecar → app (no header)', port: sidecarPort, headers: [] },
    c: { label: 'client → nginx → app (routes on the header)', port: nginxPort, headers: [] },
    d: { label: 'client → sidecar → tunnel → dev (header)', port: sidecarPort, headers: [header] },
    e: { label: 'client → Node piping bytes → app (reference)', port: pipePort, headers: [] },
  };
  const runs = Object.fromEntries(Object.keys(paths).map((id) => [id, { paced: [], saturation: [] }]));
  const hdrs = (p) => Object.fromEntries(p.headers.map((h) => h.split(': ')));
  const sampler = rssSampler(sidecar.pid, 200);
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`bench: round ${round}/${ROUNDS}:`);
    // Each round starts one path later: a path measured right after another fared differently here.
    const order = ['a', 'b', 'c', 'e'];
    for (const id of [...order.slice((round - 1) % order.length), ...order.slice(0, (round - 1) % order.length)]) {
      const p = paths[id];
      runs[id].paced.push(await wrkPaced(p.port, { ...PACED, seconds: PACED_SECONDS, headers: p.headers }));
      const sat = await wrk(p.port, { connections: CONNECTIONS, seconds: SECONDS, headers: p.headers });
      runs[id].saturation.push(sat);
      process.stdout.write(` (${id}) ${sat.rps.toFixed(0)} req/s`);
    }
    console.log('');
  }
  process.stdout.write(`bench: (d) ${paths.d.label} ... `);
  runs.d.paced.push(await wrkPaced(paths.d.port, { ...PACED, seconds: PACED_SECONDS, headers: paths.d.headers }));
  runs.d.saturation.push(await wrk(paths.d.port, { connections: CONNECTIONS, seconds: SECONDS, headers: paths.d.headers }));
  console.log(`${runs.d.saturation[0].rps.toFixed(0)} req/s`);
  const uploads = {};
  for (const id of ['a', 'b', 'd']) {
    process.stdout.write(`bench: (${id}) 1 GB upload ... `);
    uploads[id] = await upload(paths[id].port, hdrs(paths[id]));
    console.log(`${uploads[id].toFixed(0)} MB/s`);
  }
  const peakUnderLoad = sampler.stop();

  const results = {};
  for (const [id, p] of Object.entries(paths)) {
    const r = runs[id];
    results[id] = {
      label: p.label,
      paced: { rps: median(r.paced.map((x) => x.rps)), p50: median(r.paced.map((x) => x.p50)), p99: median(r.paced.map((x) => x.p99)), errors: r.paced.map((x) => x.errors).filter(Boolean) },
      saturation: {
        rps: median(r.saturation.map((x) => x.rps)),
        rpsRounds: r.saturation.map((x) => Math.round(x.rps)),
        p50: median(r.saturation.map((x) => x.p50)),
        p99: median(r.saturation.map((x) => x.p99)),
        errors: r.saturation.map((x) => x.errors).filter(Boolean),
      },
      uploadMBps: uploads[id],
    };
  }

  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const mb = (bytes) => f(MB(bytes), 1);
  const rows = [
    '| path | paced: req/s | p50 ms | p99 ms | saturation req/s (median) | rounds | p50 ms | p99 ms | 1 GB upload MB/s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(results).map(
      ([id, r]) =>
        `| (${id}) ${r.label} | ${f(r.paced.rps)} | ${f(r.paced.p50, 2)} | ${f(r.paced.p99, 2)} | ${f(r.saturation.rps)} | ${r.saturation.rpsRounds.join(' ')} | ${f(r.saturation.p50, 2)} | ${f(r.saturation.p99, 2)} | ${r.uploadMBps === undefined ? '-' : f(r.uploadMBps)} |`,
    ),
  ];
  const churn = memory.churn;
  const memRows = [
    '| sidecar state | RSS MB |',
    '|---|---|',
    `| Node itself, running an empty program (private ${mb(bareIdle.anon)}, the node binary's pages ${mb(bareIdle.file)}) | ${mb(bareIdle.rss)} |`,
    `| idle, no tunnel (private ${mb(memory.idle.anon)}, the node binary's pages ${mb(memory.idle.file)}) | ${mb(memory.idle.rss)} |`,
    `| idle, one tunnel connected | ${mb(idleWithTunnel.rss)} |`,
    `| after ${churn.warmUp} tunnel connect/release cycles | ${mb(churn.afterWarmUp)} |`,
    `| after ${churn.cycles} more (${f(churn.ms / churn.cycles, 1)} ms each; highest seen ${mb(churn.peak)}, lowest in the last fifth ${mb(churn.settled)}; private ${mb(churn.after.anon)}) | ${mb(churn.after.rss)} |`,
    `| lowest in each fifth of those cycles (a leak climbs from fifth to fifth) | ${churn.floors.map(mb).join(' → ')} |`,
    `| the same, private memory only | ${churn.privateFloors.map(mb).join(' → ')} |`,
    `| saturation, ${CONNECTIONS} connections (highest; private ${mb(memory.saturation.privatePeak)}) | ${mb(memory.saturation.peak)} |`,
    `| ${memory.idleConnections.count} idle connections (from ${mb(memory.idleConnections.before)}) | ${mb(memory.idleConnections.with)} |`,
    `| one request on each of ${memory.oneRequestEach.count} of them (highest; ${memory.oneRequestEach.answered} answered) | ${mb(memory.oneRequestEach.peak)} |`,
    `| throughput runs above (highest) | ${mb(peakUnderLoad)} |`,
  ];
  const summary = {
    sidecarVsNginxAtSaturation: results.b.saturation.rps / results.c.saturation.rps,
    addedP99PacedMs: results.b.paced.p99 - results.a.paced.p99,
    nginxAddedP99PacedMs: results.c.paced.p99 - results.a.paced.p99,
    nodePipeAddedP99PacedMs: results.e.paced.p99 - results.a.paced.p99,
    nodePipeVsNginxAtSaturation: results.e.saturation.rps / results.c.saturation.rps,
    tunnelUploadMBps: uploads.d,
    memoryMB: {
      bareNodeIdle: MB(bareIdle.rss),
      idle: MB(memory.idle.rss),
      idleWithTunnel: MB(idleWithTunnel.rss),
      tunnelCyclesGrowth: MB(churn.settled - churn.afterWarmUp),
      tunnelCyclesPrivateFloors: churn.privateFloors.map(MB),
      saturation: MB(memory.saturation.peak),
      saturationPrivate: MB(memory.saturation.privatePeak),
      perIdleConnectionKB: memory.idleConnections.perConnection / 1024,
      perIdleConnectionPrivateKB: memory.idleConnections.privatePerConnection / 1024,
      oneRequestEachPeak: MB(memory.oneRequestEach.peak),
    },
  };
  console.log(`\n${rows.join('\n')}\n`);
  console.log(
    `(b)/(c) at saturation = ${f(summary.sidecarVsNginxAtSaturation, 2)}x, (e)/(c) = ${f(summary.nodePipeVsNginxAtSaturation, 2)}x (medians of ${ROUNDS} interleaved rounds); ` +
      `at about ${f(results.a.paced.rps)} req/s (paced) (b) adds ${f(summary.addedP99PacedMs, 2)} ms at p99 over (a), (c) adds ${f(summary.nginxAddedP99PacedMs, 2)} ms, (e) ${f(summary.nodePipeAddedP99PacedMs, 2)} ms; (d) streams ${f(summary.tunnelUploadMBps)} MB/s`,
  );
  console.log(`\n${memRows.join('\n')}\n`);
  console.log(
    `sidecar memory: ${f(summary.memoryMB.perIdleConnectionKB, 2)} KB per idle connection (private ${f(summary.memoryMB.perIdleConnectionPrivateKB, 2)}); ` +
      `${f(summary.memoryMB.tunnelCyclesGrowth, 1)} MB growth over ${churn.cycles} tunnel cycles after warm-up (lowest of the last fifth)`,
  );
  for (const [id, r] of Object.entries(results)) {
    if (r.paced.errors.length || r.saturation.errors.length) console.log(`note: (${id}) wrk: ${[...r.paced.errors, ...r.saturation.errors].join('; ')}`);
  }
  if (memory.saturation.errors) console.log(`note: memory saturation run, wrk: ${memory.saturation.errors}`);
  const outDir = path.join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    path.join(outDir, 'latest.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        sidecarNode: nodeVersion,
        sidecarNodeArgs: nodeArgs,
        sidecarEnv: env,
        seconds: SECONDS,
        rounds: ROUNDS,
        connections: CONNECTIONS,
        paced: PACED,
        results,
        memory: { ...memory, idleWithTunnel, peakUnderLoad },
        summary,
      },
      null,
      2,
    ),
  );
  console.log(`written: bench/results/latest.json`);
  rmSync(nginxDir, { recursive: true, force: true });
}

process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
main().then(
  async () => {
    await stopEvery();
    process.exit(0);
  },
  async (err) => {
    console.error(err);
    await stopEvery();
    process.exit(1);
  },
);
