// The Services view's own commands and the rest of the tree's menus, in a real VS Code (the extension
// installed from the packaged .vsix) against the test cluster: switching the kubeconfig context (to
// one whose cluster does not answer, and back from the welcome view), choosing the namespaces shown,
// and, in a multi-root workspace, the local port asked with the folder of each candidate and
// remembered, "Copy as curl" on an entry of the request log, "Stop Intercept" on the service and
// "Remove Intercept Proxy from Workload", which leaves the Deployment and the Service as they were.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { readInjection } from '../../src/core/session/injection-plan.js';
import { sidecarStatus } from '../../src/core/session/proxy-status.js';
import { readWorkload } from '../../src/core/kube/workload-api.js';
import { comparable, createApp } from '../harness/cluster/apps.js';
import { createTestNamespace, deleteNamespace, kubeconfigPath, loadKubeConfig, waitFor } from '../harness/cluster/kube.js';
import { PodRunner } from '../harness/cluster/pod-runner.js';
import { requestService } from '../harness/cluster/service.js';
import { REPO_ROOT, freePort, packageVsix, waitUntil } from '../harness/vscode/codeServer.js';
import { extensionLog } from '../harness/vscode/extension-log.js';
import { acceptsConnections } from '../harness/vscode/local-port.js';
import { startingWith, withWorkbench, type Workbench } from '../harness/vscode/workbench.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'orders-workspace');
const HEADER = 'x-intercept-id';
const VALUE = 'ana-views';
const TIMEOUT = 420_000;

describe('the Services view and its menus', { timeout: TIMEOUT * 2 }, () => {
  const kc = loadKubeConfig();
  const client = new KubeClient(kc);
  const namespaces: string[] = [];
  let runner: PodRunner | undefined;
  let vsix = '';
  const scratch = mkdtempSync(path.join(tmpdir(), 'intercept-views-'));

  before(async () => {
    vsix = await packageVsix(scratch);
  });

  after(async () => {
    await runner?.stop();
    for (const ns of namespaces) await deleteNamespace(kc, ns, { wait: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  const servicesPane = (wb: Workbench) => wb.page.locator('.pane').filter({ has: wb.page.locator('.pane-header', { hasText: /Kubernetes Services/i }) });

  void test('switch context: a cluster that does not answer shows the welcome view, and its Switch Context button leads back; Choose Namespaces narrows the tree and is kept', { timeout: TIMEOUT }, async (t) => {
    const core = kc.makeApiClient(CoreV1Api);
    const first = await createTestNamespace(kc, 'views-a');
    const second = await createTestNamespace(kc, 'views-b');
    namespaces.push(first, second);
    for (const [ns, name] of [[first, 'alpha'], [second, 'beta']] as const) {
      await core.createNamespacedService({ namespace: ns, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80 }] } } });
    }
    // The test cluster's kubeconfig plus a context whose server nothing listens on.
    const silent = await freePort();
    const user = kc.getCurrentUser()!;
    const twoContexts = new KubeConfig();
    twoContexts.loadFromOptions({
      clusters: [...kc.clusters, { name: 'offline', server: `https://127.0.0.1:${silent}`, skipTLSVerify: false }],
      users: kc.users,
      contexts: [...kc.contexts, { name: 'offline', cluster: 'offline', user: user.name }],
      currentContext: kc.currentContext,
    });
    const kubeconfig = path.join(scratch, 'two-contexts.kubeconfig');
    writeFileSync(kubeconfig, twoContexts.exportConfig());
    const home = kc.currentContext;

    await withWorkbench(t, { vsix: [vsix], env: { KUBECONFIG: kubeconfig }, settings: { 'intercept.namespaces': [first, second] } }, async (wb) => {
      await wb.openView('Kubernetes Services');
      // The context node's accessible name carries its server too.
      await wb.treeItem(startingWith(home)).waitFor({ state: 'visible', timeout: 60_000 });
      await wb.treeItem(first).waitFor({ state: 'visible', timeout: 60_000 });
      await wb.treeItem(second).waitFor({ state: 'visible' });

      await wb.runCommand('Intercept: Switch Context');
      await wb.pickQuickInputRow('offline');
      const pane = servicesPane(wb);
      const welcome = await waitUntil('the welcome view of a cluster that does not answer', 60_000, async () => {
        const text = await pane.innerText().catch(() => '');
        return /does not answer/.test(text) ? text : undefined;
      });
      assert.match(welcome, new RegExp(`127\\.0\\.0\\.1:${silent}`), 'the view names the server that did not answer');
      assert.equal(await pane.getByRole('treeitem').count(), 0, 'no tree while the cluster does not answer');

      // Back through the welcome view's own button.
      await pane.getByRole('button', { name: 'Switch Context' }).click();
      await wb.pickQuickInputRow(home);
      await wb.treeItem(first).waitFor({ state: 'visible', timeout: 60_000 });

      await wb.runCommand('Intercept: Choose Namespaces');
      await wb.pickQuickInputRows([second]);
      // A namespace node keeps the expansion the user gave it: open it to see its Services.
      if ((await wb.treeItem(second).getAttribute('aria-expanded')) === 'false') await wb.treeItem(second).click();
      await wb.treeItem(/^beta/).waitFor({ state: 'visible', timeout: 60_000 });
      await waitUntil(`the tree without ${first}`, 30_000, async () => ((await wb.treeItem(first).count()) === 0 ? true : undefined));

      // Both choices are settings, kept for the next window.
      const settings = JSON.parse(readFileSync(path.join(wb.server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(settings['intercept.namespaces'], [second]);
      assert.equal(settings['intercept.context'], home);
    });
  });

  void test('multi-root: the port asked with each candidate\'s folder and remembered; Copy as curl on a logged request; Stop and Remove Proxy from the tree leave the workload as it was', { timeout: TIMEOUT }, async (t) => {
    const ns = await createTestNamespace(kc, 'views-multi');
    namespaces.push(ns);
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns });
    await createApp(kc, ns, 'orders', { replicas: 2, servicePort: 80, targetPort: 'http' });
    await runner.waitForRunning(2, 60_000);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const deploymentBefore = comparable(await apps.readNamespacedDeployment({ namespace: ns, name: 'orders' }));
    const serviceBefore = comparable(await core.readNamespacedService({ namespace: ns, name: 'orders' }));

    // Two folders, each with a launch configuration naming its own port.
    const root = mkdtempSync(path.join(scratch, 'multi-'));
    cpSync(FIXTURE, path.join(root, 'orders'), { recursive: true });
    mkdirSync(path.join(root, 'billing', '.vscode'), { recursive: true });
    writeFileSync(path.join(root, 'billing', 'server.mjs'), "import http from 'node:http';\nhttp.createServer((_q, s) => s.end('billing')).listen(Number(process.env.PORT));\n");
    writeFileSync(
      path.join(root, 'billing', '.vscode', 'launch.json'),
      JSON.stringify({ version: '0.2.0', configurations: [{ type: 'node', request: 'launch', name: 'Debug billing', program: '${workspaceFolder}/server.mjs', env: { PORT: '${env:BILLING_PORT}' } }] }, null, 2),
    );
    const workspaceFile = path.join(root, 'shop.code-workspace');
    writeFileSync(workspaceFile, JSON.stringify({ folders: [{ path: 'orders' }, { path: 'billing' }] }, null, 2));
    const ordersPort = await freePort();
    const billingPort = await freePort();

    const options = {
      workspace: workspaceFile,
      vsix: [vsix],
      env: { KUBECONFIG: kubeconfigPath(), ORDERS_PORT: String(ordersPort), BILLING_PORT: String(billingPort) },
      settings: { 'intercept.namespaces': [ns], 'intercept.headerValue': VALUE },
    };
    await withWorkbench(t, options, async (wb) => {
      const service = () => wb.treeItem(/^orders, /);
      const fromTree = async (entry: string) => {
        await wb.openView('Kubernetes Services');
        await wb.clickMenuItem(await wb.openContextMenu(service(), 60_000), entry);
      };
      const headerShown = () =>
        waitUntil(`the status bar showing "${HEADER}: ${VALUE}"`, 120_000, async () => (await wb.statusBarTexts()).find((s) => s.includes(`${HEADER}: ${VALUE}`) && !/connecting|paused/.test(s)));
      const headerGone = () => waitUntil('the status bar without the header', 60_000, async () => ((await wb.statusBarTexts()).some((s) => s.includes(VALUE)) ? undefined : true));

      await fromTree('Intercept to this workspace');
      // No debug session runs and the two folders name different ports: asked, each with its folder.
      await wb.quickInputRow(String(ordersPort)).waitFor({ state: 'visible', timeout: 60_000 });
      const rows = (await wb.quickInputRows().allInnerTexts()).join('\n');
      assert.match(rows, new RegExp(`${ordersPort}[\\s\\S]*launch configuration "Debug orders" in folder orders`));
      assert.match(rows, new RegExp(`${billingPort}[\\s\\S]*launch configuration "Debug billing" in folder billing`));
      await wb.pickQuickInputRow(String(ordersPort));
      await wb.answerDialog(/Intercept orders:80\?/, 'Intercept', 60_000);
      // The configuration the answer came from is offered, in its own folder.
      const offer = await wb.waitForNotification(/No debug session runs: start "Debug orders"\?/, 120_000);
      await offer.getByRole('button', { name: 'Start Debugging' }).click();
      await headerShown();
      await waitUntil('the debugged program listening', 90_000, () => acceptsConnections(ordersPort));
      const answer = await requestService(ns, 'orders', 80, { method: 'POST', path: '/orders/7', headers: { [HEADER]: VALUE }, timeoutMs: 90_000 });
      assert.equal(answer.body.toString(), 'orders on the laptop: POST /orders/7\n');

      // "Copy as curl" on the request log's entry.
      await wb.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: wb.server.origin });
      await wb.openView('Intercepted Requests');
      await wb.clickMenuItem(await wb.openContextMenu(wb.treeItem(/^POST \/orders\/7/), 30_000), 'Copy as curl');
      const copied = await waitUntil('the clipboard after Copy as curl', 10_000, async () => (await wb.page.evaluate<string>('navigator.clipboard.readText()')) || undefined);
      assert.equal(copied, `curl -X POST -H '${HEADER}: ${VALUE}' 'http://orders.${ns}:80/orders/7'`);

      // Stop from the service's menu; intercepting again asks nothing: the answer was remembered.
      await wb.runCommand('Debug: Stop');
      await fromTree('Stop Intercept');
      await headerGone();
      await waitForNoClaim();
      await fromTree('Intercept to this workspace');
      await headerShown();
      assert.match(extensionLog(wb.server.userDataDir), new RegExp(`127\\.0\\.0\\.1:${ordersPort} \\(port from your earlier answer for this service\\)`));

      // Remove the proxy from the service's menu: the intercept ends, and the workload and the Service are as before.
      await fromTree('Remove Intercept Proxy from Workload');
      await wb.waitForNotification(/The Intercept proxy is removed from Deployment orders/, 180_000);
      await headerGone();
      assert.deepEqual(comparable(await core.readNamespacedService({ namespace: ns, name: 'orders' })), serviceBefore);
      const deploymentAfter = comparable(await apps.readNamespacedDeployment({ namespace: ns, name: 'orders' })) as { spec: unknown; metadata: unknown };
      assert.deepEqual(deploymentAfter.spec, (deploymentBefore as { spec: unknown }).spec);
      assert.deepEqual(deploymentAfter.metadata, (deploymentBefore as { metadata: unknown }).metadata);
      await service().waitFor({ state: 'visible', timeout: 60_000 });
    });

    async function waitForNoClaim(): Promise<void> {
      await waitFor(
        'no claim of the value on any pod',
        async () => {
          const w = await readWorkload(client, 'Deployment', ns, 'orders');
          const record = readInjection(w.object.metadata?.annotations);
          const claims = record ? (await sidecarStatus(client, w, record)).flatMap((p) => p.claims.filter((c) => c.value === VALUE)) : [];
          return claims.length === 0 ? true : undefined;
        },
        { timeoutMs: 60_000 },
      );
    }
  });
});


