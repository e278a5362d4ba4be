// Calls out through the pod, from a debug session in a real VS Code (the extension installed from the
// packaged .vsix) against the test cluster and its pod network: the intercepted handler reaches the
// billing Service at the address its environment names (pointed at a local forward that the sidecar
// dials from the pod), a raw TCP protocol works through its local listener, a call through
// HTTP_PROXY without the header reaches billing's intercept held by the same developer (the proxy
// added the header), and a name the cluster does not know, or a Service whose pods refuse, fails at once
// with a message naming the destination. A Service the user names in intercept.forwardServices
// listens on the local port they chose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector } from '../../src/core/session/injector.js';
import { InterceptSession } from '../../src/core/session/intercept-session.js';
import { builtSidecar, createApp, createLineEchoApp, exchangeLine, startLocalServer } from '../harness/cluster/apps.js';
import { createTestNamespace, deleteNamespace, kubeconfigPath, loadKubeConfig } from '../harness/cluster/kube.js';
import { PodRunner } from '../harness/cluster/pod-runner.js';
import { requestService } from '../harness/cluster/service.js';
import { REPO_ROOT, freePort, packageVsix, waitUntil } from '../harness/vscode/codeServer.js';
import { extensionLog } from '../harness/vscode/extension-log.js';
import { acceptsConnections } from '../harness/vscode/local-port.js';
import { withWorkbench } from '../harness/vscode/workbench.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'orders-workspace');
const HEADER = 'x-intercept-id';
const VALUE = 'ana-out';
const TIMEOUT = 480_000;

/** Sends one line to 127.0.0.1:port and resolves with the first line answered. */
async function lineExchange(port: number, line: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return exchangeLine(socket, line, `127.0.0.1:${port}`);
}

describe('calls out through the pod from the editor', { timeout: TIMEOUT * 2 }, () => {
  const kc = loadKubeConfig();
  const client = new KubeClient(kc);
  let ns = '';
  let runner: PodRunner | undefined;
  let vsix = '';
  const scratch = mkdtempSync(path.join(tmpdir(), 'intercept-calls-out-'));

  before(async () => {
    ns = await createTestNamespace(kc, 'calls-out');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns });
    await createApp(kc, ns, 'billing', { replicas: 1, servicePort: 80, targetPort: 'http' });
    // A raw TCP protocol (a line echo) behind Service port 7000.
    await createLineEchoApp(kc, ns, 'ledger', { servicePort: 7000 });
    await createApp(kc, ns, 'orders', {
      replicas: 1,
      servicePort: 80,
      targetPort: 'http',
      env: [
        { name: 'BILLING_URL', value: 'http://billing:80' },
        { name: 'LEDGER_ADDR', value: `ledger.${ns}.svc.cluster.local:7000` },
      ],
    });
    // A Service whose pods listen on nothing at its target port: their kernel refuses the connection.
    await kc.makeApiClient(CoreV1Api).createNamespacedService({ namespace: ns, body: { metadata: { name: 'refuser' }, spec: { selector: { app: 'billing' }, ports: [{ port: 80, targetPort: 9 }] } } });
    await runner.waitForRunning(3, 90_000);
    vsix = await packageVsix(scratch);
  });

  after(async () => {
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  void test('the handler reaches billing by its cluster address and a raw TCP Service through local listeners; through HTTP_PROXY the header reaches billing\'s intercept; failures name the destination', { timeout: TIMEOUT }, async (t) => {
    const folder = mkdtempSync(path.join(scratch, 'orders-'));
    cpSync(FIXTURE, folder, { recursive: true });
    const port = await freePort();
    const ledgerLocal = await freePort();
    // Billing intercepted by the same developer, with the same value, from another client.
    const billingLaptop = await startLocalServer('billing-laptop');
    const billingInjection = await new Injector({ client, build: await builtSidecar() }).inject({ namespace: ns, service: 'billing', port: 80 });
    const billingSession = new InterceptSession({ client, injection: billingInjection, claim: { header: HEADER, value: VALUE }, developer: 'ana@laptop', local: { host: '127.0.0.1', port: billingLaptop.port } });
    await billingSession.start();
    try {
      const options = {
        workspace: folder,
        vsix: [vsix],
        env: { KUBECONFIG: kubeconfigPath(), ORDERS_PORT: String(port) },
        settings: {
          'intercept.namespaces': [ns],
          'intercept.headerValue': VALUE,
          'intercept.debugWithClusterEnvironment': true,
          // A Service the user names for a tool of their own, on a port of their choosing.
          'intercept.forwardServices': [{ service: 'ledger', port: 7000, localPort: ledgerLocal }],
        },
      };
      await withWorkbench(t, options, async (wb) => {
        await wb.openView('Kubernetes Services');
        await wb.clickMenuItem(await wb.openContextMenu(wb.treeItem(/^orders, /), 60_000), 'Intercept to this workspace');
        const asked = await wb.answerDialog(/Intercept orders:80\?/, 'Intercept', 60_000);
        assert.match(asked, /call out from the pod/);
        // The Service named in intercept.forwardServices listens where the user asked, once the intercept is active.
        await wb.waitForNotification(new RegExp(`through the pod, ledger\\.${ns}:7000 on 127\\.0\\.0\\.1:${ledgerLocal}`), 180_000);
        assert.match(await lineExchange(ledgerLocal, 'from my own tool'), /^ledger-\S+ from my own tool$/);
        const offer = await wb.waitForNotification(/No debug session runs: start "Debug orders"\?/, 180_000);
        await offer.getByRole('button', { name: 'Start Debugging' }).click();
        await wb.waitForNotification(/BILLING_URL, LEDGER_ADDR now point at local forwards/, 90_000);
        await waitUntil('the debugged program listening', 90_000, () => acceptsConnections(port));

        // The handler calls billing at the address its environment names: a local forward.
        const viaForward = await requestService(ns, 'orders', 80, { path: '/call-billing', headers: { [HEADER]: VALUE }, timeoutMs: 60_000 });
        const called = JSON.parse(viaForward.body.toString()) as { billingUrl: string; status: number; body: string };
        assert.match(called.billingUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.equal(called.status, 200);
        const billingAnswer = JSON.parse(called.body) as { pod: string; url: string };
        assert.match(billingAnswer.pod, /^billing-/, 'a billing pod answered, reached from the orders pod');
        assert.equal(billingAnswer.url, '/from-orders');

        // The raw TCP Service through the listener its variable now names.
        const log = extensionLog(wb.server.userDataDir);
        const ledger = new RegExp(`LEDGER_ADDR: ledger\\.${ns}\\.svc\\.cluster\\.local:7000 → 127\\.0\\.0\\.1:(\\d+)`).exec(log);
        assert.ok(ledger, `the log names the rewritten LEDGER_ADDR:\n${log}`);
        assert.match(await lineExchange(Number(ledger[1]), 'balance?'), /^ledger-\S+ balance\?$/);

        // Through HTTP_PROXY without the header: the proxy adds it, and billing's intercept gets the call.
        const viaProxy = await requestService(ns, 'orders', 80, { path: `/call?url=${encodeURIComponent(`http://billing.${ns}:80/charge`)}`, headers: { [HEADER]: VALUE }, timeoutMs: 60_000 });
        const proxied = JSON.parse(viaProxy.body.toString()) as { httpProxy: string; status: number; body: string };
        assert.match(proxied.httpProxy, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.deepEqual([proxied.status, proxied.body], [200, 'laptop:billing-laptop /charge']);

        // A name the cluster does not know, and a Service whose pods refuse: an error at once, and a message naming it.
        for (const [host, why] of [[`nowhere.${ns}`, /does not resolve|ENOTFOUND/i], [`refuser.${ns}`, /refused|ECONNREFUSED/i]] as const) {
          const failed = await requestService(ns, 'orders', 80, { path: `/call?url=${encodeURIComponent(`http://${host}:80/`)}`, headers: { [HEADER]: VALUE }, timeoutMs: 60_000 });
          const answer = JSON.parse(failed.body.toString()) as { status: number; body: string };
          assert.equal(answer.status, 502, `${host}: the program got a failed call (${answer.body})`);
          const warning = await wb.waitForNotification(new RegExp(`a call out to ${host.replace('.', '\\.')}:80 through the pod failed`), 30_000);
          assert.match(await warning.innerText(), why);
        }
        await wb.runCommand('Intercept: Stop Intercept');
        await wb.runCommand('Debug: Stop');
      });
    } finally {
      await billingSession.stop();
      await billingLaptop.close();
    }
  });
});

