// npm run demo: the whole product on this machine. It starts the local test cluster with a sample
// "orders" Service (two replicas), a real VS Code (code-server) with the extension and a workspace
// whose launch configuration debugs the same service locally, and a way into the Service from here
// (127.0.0.1:<port>, as a teammate's request would arrive). It prints the URL to open and the requests
// to send, and runs until Ctrl-C, which takes everything down again.
//
// npm run demo -- --walkthrough: does the same steps by itself in headless Chromium, writes a
// screenshot of each to docs/walkthrough/, prints the timings, and ends.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { down, up } from '../cluster/cluster.mjs';
import { ensureEditor } from '../vscode/install.mjs';
import { createApp } from '../../test/harness/cluster/apps.js';
import { createTestNamespace, deleteNamespace, kubeconfigPath, loadKubeConfig, repoRoot } from '../../test/harness/cluster/kube.js';
import { PodRunner } from '../../test/harness/cluster/pod-runner.js';
import { freePort, startCodeServer } from '../../test/harness/vscode/codeServer.js';
import { markedLine } from '../../test/harness/vscode/marked-line.js';
import { openServiceEntry } from './service-entry.mjs';
import { walkthrough } from './walkthrough.mjs';

const { values: flags } = parseArgs({ options: { walkthrough: { type: 'boolean', default: false } } });
const HEADER = 'x-intercept-id';
const VALUE = 'ana-demo';
const say = (msg: string) => console.log(`[demo] ${msg}`);

// Clean-ups run last registered first, once, on the way out for whatever reason.
const cleanups: (() => unknown)[] = [];
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error(`[demo] clean-up: ${(err as Error).message}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say('stopping: the editor, the pods, the namespace and the cluster go away');
    void cleanUp().then(() => process.exit(130));
  });
}

try {
  say('preparing the editor (code-server and Chromium, cached after the first run) and building the extension');
  ensureEditor();
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs')], { stdio: 'inherit' });

  say('starting the local test cluster');
  await up();
  cleanups.push(() => down());
  const kc = loadKubeConfig();
  const namespace = await createTestNamespace(kc, 'shop');
  cleanups.push(() => deleteNamespace(kc, namespace, { wait: true }));
  const runner = await PodRunner.start({ kubeConfig: kc, namespace });
  cleanups.push(() => runner.stop());
  await createApp(kc, namespace, 'orders', { replicas: 2, servicePort: 80, targetPort: 'http' });
  await runner.waitForRunning(2, 120_000);
  say(`namespace ${namespace}: Service orders (port 80) in front of 2 pods`);
  const entry = await openServiceEntry(namespace, 'orders', 80);
  cleanups.push(() => entry.close());

  const scratch = mkdtempSync(path.join(tmpdir(), 'intercept-demo-'));
  cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
  const workspace = path.join(scratch, 'orders');
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'orders-workspace'), workspace, { recursive: true });
  const localPort = await freePort();
  const server = await startCodeServer({
    workspace,
    extensionDevelopmentPath: repoRoot,
    env: { KUBECONFIG: kubeconfigPath(), ORDERS_PORT: String(localPort) },
    settings: { 'intercept.namespaces': [namespace], 'intercept.headerValue': VALUE },
  });
  cleanups.push(() => server.stop());
  const handlerLine = markedLine(path.join(workspace, 'server.mjs'));

  if (flags.walkthrough) {
    const out = path.join(repoRoot, 'docs', 'walkthrough');
    mkdirSync(out, { recursive: true });
    await walkthrough({ server, namespace, entryPort: entry.port, header: HEADER, value: VALUE, handlerFile: 'server.mjs', handlerLine, localPort, outDir: out, say });
    await cleanUp();
    process.exit(0);
  }

  console.log(`
Intercept is ready.

  1. Open ${server.workbenchUrl}
  2. Open server.mjs, set a breakpoint on line ${handlerLine}, and start "Debug orders" (F5).
  3. In the Explorer, "Kubernetes Services" → ${namespace} → orders: right-click → "Intercept to this workspace".
     The status bar then shows "${HEADER}: ${VALUE}".
  4. Send requests into the cluster's orders Service:
       curl -H '${HEADER}: ${VALUE}' http://127.0.0.1:${entry.port}/orders/42    → stops on your breakpoint
       curl http://127.0.0.1:${entry.port}/orders/42                            → answered by a pod
  5. Click the status bar entry to copy the header or stop.

Press Ctrl-C to end the demo; it takes the editor, the pods and the cluster down.
`);
  await new Promise(() => undefined);
} catch (err) {
  console.error(`[demo] failed: ${(err as Error).stack ?? String(err)}`);
  await cleanUp();
  process.exit(1);
}
