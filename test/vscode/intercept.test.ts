// The whole intercept from the editor, in a real VS Code (the extension installed from the packaged
// .vsix) against the test cluster: the Services tree, "Intercept to this workspace" on the service
// with the sample's debug session running (the port found with no question), the header in the
// status bar, a claimed request stopping on a breakpoint in the handler, the request log, a
// teammate's claim shown with their name, a held value refused naming its holder, Stop from the
// status bar, a window reload releasing every claim, and what a developer with only the documented
// Role sees: a namespace they may not read names the missing permission, and a local port with
// nothing listening turns the status bar into a warning and says so in the log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, type V1EnvVar } from '@kubernetes/client-node';
import { KubeClient } from '../../src/core/kube/kube-client.js';
import { Injector } from '../../src/core/session/injector.js';
import { InterceptSession } from '../../src/core/session/intercept-session.js';
import { readInjection } from '../../src/core/session/injection-plan.js';
import { sidecarStatus } from '../../src/core/session/proxy-status.js';
import { readWorkload } from '../../src/core/kube/workload-api.js';
import { builtSidecar, createApp, startLocalServer } from '../harness/cluster/apps.js';
import { createTestNamespace, deleteNamespace, kubeconfigPath, loadKubeConfig, waitFor } from '../harness/cluster/kube.js';
import { PodRunner } from '../harness/cluster/pod-runner.js';
import { developerWithDocumentedRole } from '../harness/cluster/rbac.js';
import { requestService } from '../harness/cluster/service.js';
import { REPO_ROOT, freePort, packageVsix, waitUntil } from '../harness/vscode/codeServer.js';
import { extensionLog } from '../harness/vscode/extension-log.js';
import { acceptsConnections } from '../harness/vscode/local-port.js';
import { markedLine } from '../harness/vscode/marked-line.js';
import { withWorkbench, type Workbench } from '../harness/vscode/workbench.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'orders-workspace');
const HANDLER_FILE = 'server.mjs';
const breakpointLine = markedLine(path.join(FIXTURE, HANDLER_FILE));
const HEADER = 'x-intercept-id';
const VALUE = 'ana-test';
const TIMEOUT = 420_000;
/** The orders container's environment in the cluster: literal, ConfigMap, Secret, fieldRef, $(VAR), and a PORT the launch configuration overrides. */
const ORDERS_ENV: V1EnvVar[] = [
  { name: 'LOG_LEVEL', value: 'debug' },
  { name: 'PORT', value: '8080' },
  { name: 'FEATURE', valueFrom: { configMapKeyRef: { name: 'orders-config', key: 'FEATURE' } } },
  { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db', key: 'password' } } },
  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  { name: 'GREETING', value: 'hello from $(POD_NAME)' },
];

describe('intercept from the editor', { timeout: TIMEOUT * 3 }, () => {
  const kc = loadKubeConfig();
  const client = new KubeClient(kc);
  let ns = '';
  let runner: PodRunner | undefined;
  let vsix = '';
  const scratch = mkdtempSync(path.join(tmpdir(), 'intercept-editor-'));

  before(async () => {
    ns = await createTestNamespace(kc, 'editor');
    runner = await PodRunner.start({ kubeConfig: kc, namespace: ns });
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'orders-config' }, data: { FEATURE: 'new-checkout' } } });
    await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'orders-db' }, stringData: { password: 's3cret!' } } });
    await createApp(kc, ns, 'orders', { replicas: 2, servicePort: 80, targetPort: 'http', env: ORDERS_ENV });
    await runner.waitForRunning(2, 60_000);
    vsix = await packageVsix(scratch);
  });

  after(async () => {
    await runner?.stop();
    if (ns) await deleteNamespace(kc, ns, { wait: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A fresh copy of the sample workspace, its program's port chosen now. */
  async function workspace(): Promise<{ folder: string; port: number }> {
    const folder = mkdtempSync(path.join(scratch, 'orders-'));
    cpSync(FIXTURE, folder, { recursive: true });
    return { folder, port: await freePort() };
  }

  const editorOptions = (folder: string, port: number) => ({
    workspace: folder,
    vsix: [vsix],
    env: { KUBECONFIG: kubeconfigPath(), ORDERS_PORT: String(port) },
    settings: { 'intercept.namespaces': [ns], 'intercept.headerValue': VALUE },
  });

  async function claimsOnPods(): Promise<string[]> {
    const w = await readWorkload(client, 'Deployment', ns, 'orders');
    const record = readInjection(w.object.metadata?.annotations);
    if (!record) return [];
    return (await sidecarStatus(client, w, record)).flatMap((p) => p.claims.map((c) => `${c.developer} ${c.value} ${c.state}`));
  }

  /**
   * Waits until no pod holds the claim, and fails if it is ever seen in its grace period or only
   * announced: a released claim goes at once, while a dropped tunnel (a window that died without
   * releasing) would pass through grace and the announcement would linger until it expires.
   */
  async function waitForReleased(what: string): Promise<void> {
    const lingered: string[] = [];
    await waitFor(
      what,
      async () => {
        const mine = (await claimsOnPods()).filter((c) => c.includes(` ${VALUE} `));
        lingered.push(...mine.filter((c) => !c.endsWith(' connected')));
        return mine.length === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, everyMs: 250 },
    );
    assert.deepEqual(lingered, [], 'a released claim never lingers in grace or as an announcement');
  }

  async function interceptFromTree(wb: Workbench): Promise<void> {
    await wb.openView('Kubernetes Services');
    const service = wb.treeItem(/^orders, /);
    const menu = await wb.openContextMenu(service, 60_000);
    await wb.clickMenuItem(menu, 'Intercept to this workspace');
  }

  const headerShown = (wb: Workbench) =>
    waitUntil(`the status bar showing "${HEADER}: ${VALUE}"`, 120_000, async () => (await wb.statusBarTexts()).find((t) => t.includes(`${HEADER}: ${VALUE}`) && !/connecting|paused/.test(t)));

  void test('intercept with the debug session running: breakpoint hit by a claimed request, others answered by pods, request logged, paused while the session is gone, header and curl copied, stop from the status bar', { timeout: TIMEOUT }, async (t) => {
    const { folder, port } = await workspace();
    await withWorkbench(t, editorOptions(folder, port), async (wb) => {
      await wb.openView('Kubernetes Services');
      await wb.treeItem(ns).waitFor({ state: 'visible', timeout: 60_000 });
      await wb.treeItem(/^orders, /).waitFor({ state: 'visible', timeout: 60_000 });

      await wb.setBreakpoint(HANDLER_FILE, breakpointLine);
      await wb.runCommand('Debug: Start Debugging');
      const local = () => acceptsConnections(port);
      await waitUntil('the debugged program listening', 90_000, local);

      const t0 = Date.now();
      await interceptFromTree(wb);
      // The first intercept of a workload says what will change and asks.
      const asked = await wb.answerDialog(/Intercept orders:80\?/, 'Intercept', 60_000);
      assert.match(asked, /adds its proxy container to Deployment\/orders/);
      const shown = await headerShown(wb);
      t.diagnostic(`right-click to header in the status bar: ${Date.now() - t0} ms (includes the confirmation and the first injection); .vsix ${(statSync(vsix).size / 1024).toFixed(0)} KiB`);
      assert.match(shown, new RegExp(`${HEADER}: ${VALUE}`));
      // The port came from the running session itself: the port its program listens on.
      assert.match(extensionLog(wb.server.userDataDir), new RegExp(`port from debug session "Debug orders" listens on 127\\.0\\.0\\.1:${port}\\)`));

      // Without the header: a pod answers, nothing pauses.
      const plain = await requestService(ns, 'orders', 80, { path: '/plain', timeoutMs: 30_000 });
      assert.equal(plain.status, 200);
      assert.match(plain.body.toString(), /"pod"/);

      // With it: the debugger stops in the handler; after continue the caller gets the laptop's answer.
      const claimed = requestService(ns, 'orders', 80, { path: '/from-the-cluster', headers: { [HEADER]: VALUE }, timeoutMs: 120_000 }).then(
        (r) => r,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      const stack = await wb.waitForPaused('breakpoint', 90_000);
      assert.match(stack, /server\.mjs/);
      await wb.runCommand('Debug: Continue');
      const answer = await claimed;
      if (answer instanceof Error) throw answer;
      assert.equal(answer.status, 200);
      assert.equal(answer.body.toString(), 'orders on the laptop: GET /from-the-cluster\n');

      // The request log lists it.
      await wb.openView('Intercepted Requests');
      await wb.treeItem(/GET \/from-the-cluster/).waitFor({ state: 'visible', timeout: 30_000 });

      // The debug session ends: the intercept pauses (the claim released, so the team's pods answer),
      // and claims again when the same launch configuration starts.
      await wb.runCommand('Debug: Stop');
      await waitUntil('the status bar saying paused', 60_000, async () => (await wb.statusBarTexts()).find((s) => s.includes(`${HEADER}: ${VALUE}`) && s.includes('paused')));
      await waitForReleased('the claim released while paused');
      const whilePaused = await requestService(ns, 'orders', 80, { path: '/while-paused', headers: { [HEADER]: VALUE }, timeoutMs: 30_000 });
      assert.match(whilePaused.body.toString(), /"pod"/);
      await wb.runCommand('Debug: Start Debugging');
      await waitUntil('the debugged program listening again', 90_000, local);
      await headerShown(wb);
      await waitFor('the claim on every pod again', async () => ((await claimsOnPods()).filter((c) => c.includes(` ${VALUE} connected`)).length === 2 ? true : undefined), { timeoutMs: 60_000 });

      // A teammate's claim shows in the tree with their name.
      const bob = await teammate('bob@laptop', 'bob-1');
      try {
        await wb.openView('Kubernetes Services');
        await wb.treeItem(/^orders, /).waitFor({ state: 'visible' });
        await waitUntil('the tree naming bob@laptop', 60_000, async () => ((await wb.page.locator('.monaco-list-row', { hasText: 'bob@laptop' }).count()) > 0 ? true : undefined));
      } finally {
        await bob.stop();
      }

      // Copy Header and Copy curl Command from the status bar's menu put them on the clipboard.
      await wb.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: wb.server.origin });
      // By its id: a "Copied …" status message names the header too.
      const interceptItem = wb.page.locator('[id="intercept-dev.intercept.intercept.status"]');
      const copied = async (item: string) => {
        await interceptItem.click();
        await wb.pickQuickInputRow(item);
        return waitUntil(`the clipboard after ${item}`, 10_000, async () => (await wb.page.evaluate<string>('navigator.clipboard.readText()')) || undefined);
      };
      assert.equal(await copied('Copy Header'), `${HEADER}: ${VALUE}`);
      await wb.page.evaluate("navigator.clipboard.writeText('')");
      assert.equal(await copied('Copy curl Command'), `curl -H '${HEADER}: ${VALUE}' 'http://orders.${ns}:80/'`);

      // Stop from the status bar: the claim is released and the status bar clears.
      await interceptItem.click();
      await wb.pickQuickInputRow('Stop Intercept');
      await waitUntil('the status bar without the header', 60_000, async () => ((await wb.statusBarTexts()).some((s) => s.includes(VALUE)) ? undefined : true));
      await waitForReleased('no claim of ana-test on any pod after Stop');
      await wb.runCommand('Debug: Stop');
    });
  });

  void test('a value a teammate holds is refused naming them; reloading the window releases the claims', { timeout: TIMEOUT }, async (t) => {
    const { folder } = await workspace();
    const program = await startLocalServer('orders');
    try {
      await withWorkbench(t, editorOptions(folder, program.port), async (wb) => {
        const holder = await teammate('carol@desk', VALUE);
        try {
          await interceptFromTree(wb);
          const refused = await wb.waitForNotification(/claimed by carol@desk/, 120_000);
          assert.match(await refused.innerText(), /carol@desk/);
        } finally {
          await holder.stop();
        }
        await interceptFromTree(wb);
        await headerShown(wb);
        await waitFor('the claim on every pod', async () => ((await claimsOnPods()).filter((c) => c.includes(` ${VALUE} connected`)).length === 2 ? true : undefined), { timeoutMs: 60_000 });
        await wb.runCommand('Developer: Reload Window');
        await waitForReleased('no claim of ana-test left after the reload');
      });
    } finally {
      await program.close();
    }
  });

  void test('as a developer with only the documented Role: a forbidden namespace names the permission; nothing on the local port warns', { timeout: TIMEOUT }, async (t) => {
    const { folder, port } = await workspace();
    const kubeconfig = path.join(folder, '..', `${path.basename(folder)}.kubeconfig`);
    writeFileSync(kubeconfig, (await developerWithDocumentedRole(kc, ns, 'dev')).exportConfig());
    // The proxy is in place already, so this intercept changes nothing and asks nothing.
    await new Injector({ client, build: await builtSidecar() }).inject({ namespace: ns, service: 'orders', port: 80 });
    const other = `${ns}-other`;
    const options = editorOptions(folder, port);
    await withWorkbench(t, { ...options, env: { ...options.env, KUBECONFIG: kubeconfig }, settings: { ...options.settings, 'intercept.namespaces': [ns, other] } }, async (wb) => {
      await wb.openView('Kubernetes Services');
      await wb.treeItem(other).click();
      const refusal = wb.treeItem(new RegExp(`^Forbidden: you may not list services in namespace "${other}"`));
      await refusal.waitFor({ state: 'visible', timeout: 60_000 });

      await interceptFromTree(wb);
      await headerShown(wb);
      // Nothing listens on the port the launch configuration names: the claimed request fails, and
      // the editor says why.
      const answer = await requestService(ns, 'orders', 80, { path: '/nobody-home', headers: { [HEADER]: VALUE }, timeoutMs: 60_000 });
      assert.equal(answer.status, 502);
      const warning = await waitUntil('a warning in the status bar', 60_000, async () => (await wb.statusBarTexts()).find((s) => s.includes(`nothing on localhost:${port}`)));
      assert.match(warning, new RegExp(`${HEADER}: ${VALUE}`));
      await wb.runCommand('Intercept: Show Log');
      await wb.waitForOutput('Intercept', new RegExp(`found nothing at 127\\.0\\.0\\.1:${port}`));
      await wb.runCommand('Intercept: Stop Intercept');
      await waitForReleased('no claim of ana-test after Stop from the palette');
    });
  });

  void test('debug with the cluster\'s environment: the session started from the intercept gets the pod\'s environment, Secrets after one question, its own PORT kept', { timeout: TIMEOUT }, async (t) => {
    const { folder, port } = await workspace();
    // The proxy is in place already, so this intercept asks nothing before the debug session.
    await new Injector({ client, build: await builtSidecar() }).inject({ namespace: ns, service: 'orders', port: 80 });
    const options = editorOptions(folder, port);
    await withWorkbench(t, { ...options, settings: { ...options.settings, 'intercept.debugWithClusterEnvironment': true } }, async (wb) => {
      await interceptFromTree(wb);
      await headerShown(wb);
      // No debug session runs: the intercept offers to start the configuration its port came from.
      const offer = await wb.waitForNotification(/No debug session runs: start "Debug orders"\?/, 60_000);
      await offer.getByRole('button', { name: 'Start Debugging' }).click();
      await wb.answerDialog(/Include the Secrets of Deployment orders/, 'Include Secrets', 60_000);
      await waitUntil('the debugged program listening on its own PORT', 90_000, () => acceptsConnections(port));

      const answer = await requestService(ns, 'orders', 80, { path: '/env', headers: { [HEADER]: VALUE }, timeoutMs: 60_000 });
      assert.equal(answer.status, 200);
      const env = JSON.parse(answer.body.toString()) as Record<string, string | null>;
      const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns, labelSelector: 'app=orders' })).items.map((p) => p.metadata!.name!);
      assert.ok(pods.includes(env.POD_NAME ?? ''), `POD_NAME ${env.POD_NAME} is one of the pods ${pods.join(', ')}`);
      assert.deepEqual(env, { LOG_LEVEL: 'debug', FEATURE: 'new-checkout', DB_PASSWORD: 's3cret!', POD_NAME: env.POD_NAME, GREETING: `hello from ${env.POD_NAME}` });
      await wb.runCommand('Intercept: Show Log');
      const log = await wb.waitForOutput('Intercept', /kept from the launch configuration: PORT/);
      assert.doesNotMatch(log, /s3cret!/, 'no Secret value in the log');
      await wb.runCommand('Intercept: Stop Intercept');
      await waitForReleased('no claim of ana-test after Stop');
      await wb.runCommand('Debug: Stop');
    });
  });

  void test('as a developer with only the documented Role, the cluster environment leaves out the Secrets they may not read, and says so', { timeout: TIMEOUT }, async (t) => {
    const { folder, port } = await workspace();
    const kubeconfig = path.join(folder, '..', `${path.basename(folder)}.kubeconfig`);
    writeFileSync(kubeconfig, (await developerWithDocumentedRole(kc, ns, 'env-dev')).exportConfig());
    await new Injector({ client, build: await builtSidecar() }).inject({ namespace: ns, service: 'orders', port: 80 });
    const options = editorOptions(folder, port);
    await withWorkbench(t, { ...options, env: { ...options.env, KUBECONFIG: kubeconfig }, settings: { ...options.settings, 'intercept.debugWithClusterEnvironment': true } }, async (wb) => {
      await interceptFromTree(wb);
      await headerShown(wb);
      const offer = await wb.waitForNotification(/No debug session runs: start "Debug orders"\?/, 60_000);
      await offer.getByRole('button', { name: 'Start Debugging' }).click();
      await wb.answerDialog(/Include the Secrets of Deployment orders/, 'Include Secrets', 60_000);
      const note = await wb.waitForNotification(/starts without some of the pod's variables/, 60_000);
      assert.match(await note.innerText(), new RegExp(`DB_PASSWORD: left out: you may not get secrets in namespace ${ns}`));
      await waitUntil('the debugged program listening', 90_000, () => acceptsConnections(port));
      const answer = await requestService(ns, 'orders', 80, { path: '/env', headers: { [HEADER]: VALUE }, timeoutMs: 60_000 });
      const env = JSON.parse(answer.body.toString()) as Record<string, string | null>;
      assert.deepEqual(env, { LOG_LEVEL: 'debug', FEATURE: 'new-checkout', DB_PASSWORD: null, POD_NAME: env.POD_NAME, GREETING: `hello from ${env.POD_NAME}` });
      assert.ok(env.POD_NAME, 'the rest of the environment arrived');
      await wb.runCommand('Intercept: Stop Intercept');
      await waitForReleased('no claim of ana-test after Stop');
      await wb.runCommand('Debug: Stop');
    });
  });

  /** Another developer intercepting the same service with the core, as their editor would. */
  async function teammate(developer: string, value: string): Promise<{ stop: () => Promise<void> }> {
    const injector = new Injector({ client, build: await builtSidecar() });
    const injection = await injector.inject({ namespace: ns, service: 'orders', port: 80 });
    const localServer = await startLocalServer(developer);
    const session = new InterceptSession({ client, injection, claim: { header: HEADER, value }, developer, local: { host: '127.0.0.1', port: localServer.port } });
    try {
      await session.start();
    } catch (err) {
      await localServer.close();
      throw err;
    }
    return {
      stop: async () => {
        await session.stop();
        await localServer.close();
      },
    };
  }
});

