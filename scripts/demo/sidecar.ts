// The demo of the sidecar and the tunnel, all on loopback: an app stands for the service's pod, two
// developers' programs stand for what runs under their debuggers, the real sidecar process sits in
// front of the app, and two tunnel clients claim `x-intercept-id` values as the extension will.
// It sends requests with and without the header and shows where each one went.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import path from 'node:path';
import { TunnelClient } from '../../src/core/tunnel/tunnel-client';
import { TunnelError } from '../../src/core/tunnel/errors';
import { SIDECAR_ENV, SIDECAR_NODE_ARGS } from '../../src/protocol/constants';

const bundle = path.resolve(__dirname, '../../proxy-image/dist/intercept-proxy.js');

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function namedServer(name: string): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer((_req, res) => res.end(name));
  return { port: await listen(server), server };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  s.close();
  return port;
}

function get(port: number, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/orders/42', headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const app = await namedServer('the app in the pod');
  const ana = await namedServer("ana's program (her debugger)");
  const bo = await namedServer("bo's program (his debugger)");
  const [listenPort, controlPort, healthPort] = [await freePort(), await freePort(), await freePort()];

  const sidecar = spawn(process.execPath, [
    ...SIDECAR_NODE_ARGS, bundle, '--listen', `${listenPort}:${app.port}`, '--control-port', String(controlPort),
    '--health-port', String(healthPort), '--bind-address', '127.0.0.1',
  ], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...SIDECAR_ENV } });
  const sidecarLog: string[] = [];
  sidecar.stdout.setEncoding('utf8').on('data', (c: string) => sidecarLog.push(...c.trim().split('\n')));
  await new Promise<void>((resolve, reject) => {
    sidecar.stdout.on('data', () => sidecarLog.some((l) => l.includes('intercept-proxy started')) && resolve());
    sidecar.once('exit', () => reject(new Error(`the sidecar exited:\n${sidecarLog.join('\n')}`)));
  });

  const dial = async (): Promise<net.Socket> => {
    const s = net.connect({ host: '127.0.0.1', port: controlPort });
    await once(s, 'connect');
    return s;
  };
  const tunnel = (developer: string, value: string, port: number): TunnelClient =>
    new TunnelClient({ dial, claim: { header: 'x-intercept-id', value }, developer, local: { host: '127.0.0.1', port } });
  const anaTunnel = tunnel('ana', 'ana-4f2c', ana.port);
  const boTunnel = tunnel('bo', 'bo-91aa', bo.port);
  const logged: string[] = [];
  anaTunnel.on('request', (r) => logged.push(`  ana's request log: ${r.method} ${r.path} → ${r.status} in ${r.durationMs} ms`));
  await anaTunnel.start();
  await boTunnel.start();

  console.log(`\nIntercept demo: sidecar on 127.0.0.1:${listenPort} in front of the app on 127.0.0.1:${app.port}`);
  console.log(`ana claims "x-intercept-id: ana-4f2c", bo claims "x-intercept-id: bo-91aa"\n`);
  const cases: Array<[string, Record<string, string>]> = [
    ['no header', {}],
    ['x-intercept-id: ana-4f2c', { 'x-intercept-id': 'ana-4f2c' }],
    ['x-intercept-id: bo-91aa', { 'x-intercept-id': 'bo-91aa' }],
    ['baggage: x-intercept-id=ana-4f2c', { baggage: 'x-intercept-id=ana-4f2c' }],
    ['x-intercept-id: someone-else', { 'x-intercept-id': 'someone-else' }],
  ];
  console.log(`${'GET /orders/42 with'.padEnd(36)} went to`);
  for (const [label, headers] of cases) console.log(`${label.padEnd(36)} ${await get(listenPort, headers)}`);
  console.log(logged.join('\n'));

  try {
    await tunnel('carl', 'ana-4f2c', bo.port).start();
  } catch (err) {
    if (!(err instanceof TunnelError)) throw err;
    console.log(`\ncarl asks for ana's value and is refused (${err.failure.kind}): ${err.message}`);
  }

  await anaTunnel.close();
  console.log(`\nana stops; her header goes to the app again: ${await get(listenPort, { 'x-intercept-id': 'ana-4f2c' })}`);
  await boTunnel.close();
  sidecar.kill('SIGTERM');
  await once(sidecar, 'exit');
  for (const s of [app, ana, bo]) s.server.close();
  console.log('\nsidecar log (claims):');
  for (const line of sidecarLog.filter((l) => l.includes('claim'))) console.log(`  ${line}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
