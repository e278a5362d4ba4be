// npm run bench: requests/s and latency on loopback for
//   (a) client → app directly
//   (b) client → sidecar → app (no header: the hot path every teammate takes)
//   (c) client → nginx routing on the same header → app (the reference proxy)
//   (d) client → sidecar → tunnel → developer's program (with the header)
// at a fixed offered load and at saturation, MB/s of a 1 GB upload for (a), (b), (d), and the
// sidecar's memory idle and under load. It passes or fails nothing: it prints a table and writes
// bench/results/latest.json.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;
const FIXED_RATE = 1000;
const UPLOAD_BYTES = 1024 ** 3;
const HEADER = ['x-intercept-id', 'ana-4f2c'];
const children = [];

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

function start(cmd, args, readyPattern) {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      out += chunk;
      const m = readyPattern.exec(out);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, match: m });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.once('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function toMs(text) {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

/** Saturation: wrk with a fixed number of connections, as fast as they go. */
async function saturate(port, headers = []) {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), `http://127.0.0.1:${port}/`];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  await once(child, 'exit');
  const rps = Number((/Requests\/sec:\s+([\d.]+)/.exec(out) ?? [])[1]);
  const p50 = toMs((/\s50%\s+(\S+)/.exec(out) ?? [])[1] ?? '');
  const p99 = toMs((/\s99%\s+(\S+)/.exec(out) ?? [])[1] ?? '');
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
  return { rps, p50, p99, errors: errors ? errors[0] : null };
}

/** Fixed offered load: requests sent on a schedule (open loop), latency counted from the schedule. */
async function fixedRate(port, headers = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const total = FIXED_RATE * SECONDS;
  const latencies = [];
  let failures = 0;
  const t0 = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / FIXED_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // From the schedule when late (queueing counts), from the send when the timer woke early.
    const sent = Math.min(due, performance.now());
    inflight.push(
      new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - sent);
            else failures++;
            resolve();
          });
        });
        req.on('error', () => {
          failures++;
          resolve();
        });
      }),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { rps: total / ((performance.now() - t0) / 1000), p50: q(0.5), p99: q(0.99), failures };
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

async function main() {
  ensureTools();
  const bundle = path.join(root, 'proxy-image/dist/intercept-proxy.js');
  if (!existsSync(bundle)) throw new Error('build first: node scripts/build.mjs');
  const [appPort, devPort, sidecarPort, controlPort, healthPort, nginxPort] = await Promise.all(Array.from({ length: 6 }, freePort));
  await start('node', ['bench/hello-server.mjs', 'app', String(appPort)], /port (\d+)/);
  await start('node', ['bench/hello-server.mjs', 'dev', String(devPort)], /port (\d+)/);
  const { child: sidecar } = await start(
    'node',
    [bundle, '--listen', `${sidecarPort}:${appPort}`, '--control-port', String(controlPort), '--health-port', String(healthPort), '--bind-address', '127.0.0.1'],
    /intercept-proxy started/,
  );
  await start('node', ['--import', 'tsx', 'bench/tunnel-peer.ts', String(controlPort), String(devPort)], /ready/);
  const nginxDir = mkdtempSync(path.join(tmpdir(), 'intercept-bench-nginx-'));
  writeFileSync(path.join(nginxDir, 'nginx.conf'), nginxConfig(nginxDir, nginxPort, appPort, devPort));
  const nginxBin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const nginx = spawn(nginxBin, ['-p', nginxDir, '-c', path.join(nginxDir, 'nginx.conf')], { stdio: 'inherit' });
  children.push(nginx);
  for (let i = 0; i < 100; i++) {
    if (await new Promise((r) => net.connect(nginxPort, '127.0.0.1').once('connect', function () { this.destroy(); r(true); }).once('error', () => r(false)))) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  const rssIdle = rssOf(sidecar.pid);
  const header = `${HEADER[0]}: ${HEADER[1]}`;
  const cases = [
    ['a', 'client → app directly', appPort, []],
    ['b', 'client → sidecar → app (no header)', sidecarPort, []],
    ['c', 'client → nginx → app (routes on the header)', nginxPort, []],
    ['d', 'client → sidecar → tunnel → dev (header)', sidecarPort, [header]],
  ];
  const results = {};
  let rssPeak = rssIdle;
  for (const [id, label, port, headers] of cases) {
    process.stdout.write(`bench: ${id}) ${label} ... `);
    const hdrs = Object.fromEntries(headers.map((h) => h.split(': ')));
    const fixed = await fixedRate(port, hdrs);
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(sidecar.pid))), 200);
    const sat = await saturate(port, headers);
    clearInterval(sampler);
    results[id] = { label, fixed, saturation: sat };
    console.log(`${sat.rps.toFixed(0)} req/s`);
  }
  for (const [id, port, hdrs] of [['a', appPort, {}], ['b', sidecarPort, {}], ['d', sidecarPort, { [HEADER[0]]: HEADER[1] }]]) {
    process.stdout.write(`bench: ${id}) 1 GB upload ... `);
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(sidecar.pid))), 200);
    results[id].uploadMBps = await upload(port, hdrs);
    clearInterval(sampler);
    console.log(`${results[id].uploadMBps.toFixed(0)} MB/s`);
  }

  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const rows = [
    '| path | fixed 1,000 req/s: p50 ms | p99 ms | saturation req/s | p50 ms | p99 ms | 1 GB upload MB/s |',
    '|---|---|---|---|---|---|---|',
    ...Object.entries(results).map(
      ([id, r]) =>
        `| (${id}) ${r.label} | ${f(r.fixed.p50, 2)} | ${f(r.fixed.p99, 2)} | ${f(r.saturation.rps)} | ${f(r.saturation.p50, 2)} | ${f(r.saturation.p99, 2)} | ${r.uploadMBps === undefined ? '-' : f(r.uploadMBps)} |`,
    ),
  ];
  const summary = {
    addedP99AtFixedRateMs: results.b.fixed.p99 - results.a.fixed.p99,
    sidecarVsNginxAtSaturation: results.b.saturation.rps / results.c.saturation.rps,
    tunnelUploadMBps: results.d.uploadMBps,
    sidecarRssIdleMB: rssIdle / 1024 / 1024,
    sidecarRssPeakMB: rssPeak / 1024 / 1024,
  };
  console.log(`\n${rows.join('\n')}\n`);
  console.log(`(b) adds ${f(summary.addedP99AtFixedRateMs, 2)} ms at p99 at ${FIXED_RATE} req/s; (b)/(c) at saturation = ${f(summary.sidecarVsNginxAtSaturation, 2)}x; (d) streams ${f(summary.tunnelUploadMBps)} MB/s`);
  console.log(`sidecar RSS: idle ${f(summary.sidecarRssIdleMB, 1)} MB, peak under load ${f(summary.sidecarRssPeakMB, 1)} MB`);
  for (const [id, r] of Object.entries(results)) {
    if (r.fixed.failures || r.saturation.errors) console.log(`note: (${id}) fixed-rate failures ${r.fixed.failures}, wrk: ${r.saturation.errors ?? 'none'}`);
  }
  const outDir = path.join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    path.join(outDir, 'latest.json'),
    JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds: SECONDS, connections: CONNECTIONS, fixedRate: FIXED_RATE, results, summary }, null, 2),
  );
  console.log(`written: bench/results/latest.json`);
  rmSync(nginxDir, { recursive: true, force: true });
}

function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
main().then(
  () => {
    stopAll();
    process.exit(0);
  },
  (err) => {
    console.error(err);
    stopAll();
    process.exit(1);
  },
);
