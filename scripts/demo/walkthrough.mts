// `npm run demo -- --walkthrough`: the demo's steps done by themselves in headless Chromium, a
// screenshot of each in docs/walkthrough/, and the figures a user feels: from the right-click to the
// header in the status bar (first intercept of the workload, and again with the proxy in place), and
// the extension's activation time.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { CodeServer } from '../../test/harness/vscode/codeServer.js';
import { waitUntil } from '../../test/harness/vscode/codeServer.js';
import { extensionLog } from '../../test/harness/vscode/extension-log.js';
import { Workbench, launchBrowser } from '../../test/harness/vscode/workbench.js';

export interface WalkthroughOptions {
  readonly server: CodeServer;
  readonly namespace: string;
  readonly entryPort: number;
  readonly header: string;
  readonly value: string;
  readonly handlerFile: string;
  readonly handlerLine: number;
  readonly localPort: number;
  readonly outDir: string;
  readonly say: (msg: string) => void;
}

const listening = (port: number) =>
  new Promise<true | undefined>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });

function get(o: WalkthroughOptions, pathname: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: o.entryPort, path: pathname, headers: { host: `orders.${o.namespace}`, ...headers }, agent: false, timeout: 120_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', reject);
  });
}

/** What the extension logged about its activation. */
function activationMs(userDataDir: string): string {
  return /activated \(version [^)]*\) in (\d+) ms/.exec(extensionLog(userDataDir))?.[1] ?? '?';
}

export async function walkthrough(o: WalkthroughOptions): Promise<void> {
  const browser = await launchBrowser();
  const figures: string[] = [];
  try {
    const wb = new Workbench(browser.page, o.server);
    const shot = async (name: string) => {
      await wb.page.screenshot({ path: path.join(o.outDir, `${name}.png`) });
      o.say(`screenshot ${name}.png`);
    };
    const orders = () => wb.treeItem(/^orders, /);
    const headerShown = () =>
      waitUntil('the header in the status bar', 180_000, async () => (await wb.statusBarTexts()).find((t) => t.includes(`${o.header}: ${o.value}`) && !/connecting|paused/.test(t)));
    const headerGone = () => waitUntil('the status bar without the header', 60_000, async () => ((await wb.statusBarTexts()).some((t) => t.includes(o.value)) ? undefined : true));

    await wb.open();
    await wb.openView('Kubernetes Services');
    await orders().waitFor({ state: 'visible', timeout: 60_000 });
    await shot('01-services-tree');

    await wb.setBreakpoint(o.handlerFile, o.handlerLine);
    await wb.runCommand('Debug: Start Debugging');
    await waitUntil('the debugged program listening', 90_000, () => listening(o.localPort));
    await wb.openView('Kubernetes Services');
    const menu = await wb.openContextMenu(orders());
    await shot('02-context-menu');
    let t0 = Date.now();
    await wb.clickMenuItem(menu, 'Intercept to this workspace');
    await wb.page.locator('.monaco-dialog-box').waitFor({ state: 'visible', timeout: 60_000 });
    await shot('03-confirmation');
    const asked = Date.now() - t0;
    await wb.answerDialog(/Intercept orders:80\?/, 'Intercept');
    const t1 = Date.now();
    await headerShown();
    figures.push(`right-click → header in the status bar, first intercept of the workload: ${((Date.now() - t1 + asked) / 1000).toFixed(1)} s (the time spent reading the confirmation left out)`);
    await shot('04-intercepting');

    const claimed = get(o, '/orders/42', { [o.header]: o.value });
    await wb.waitForPaused('breakpoint', 90_000);
    await shot('05-paused-on-breakpoint');
    await wb.runCommand('Debug: Continue');
    o.say(`with the header: ${await claimed}`);
    o.say(`without it:      ${await get(o, '/orders/42', {})}`);

    await wb.openView('Intercepted Requests');
    await wb.treeItem(/^GET \/orders\/42/).waitFor({ state: 'visible', timeout: 30_000 });
    await shot('06-request-log');

    await wb.statusBarItem(new RegExp(`${o.header}: ${o.value}`)).click();
    await wb.quickInputRow('Stop Intercept').waitFor({ state: 'visible' });
    await shot('07-status-bar-menu');
    await wb.pickQuickInputRow('Stop Intercept');
    await headerGone();

    // Again, with the proxy already in the pods: no confirmation, no restart.
    await wb.openView('Kubernetes Services');
    t0 = Date.now();
    await wb.clickMenuItem(await wb.openContextMenu(orders()), 'Intercept to this workspace');
    await headerShown();
    figures.push(`right-click → header in the status bar, proxy already in place: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await wb.runCommand('Intercept: Stop Intercept');
    await headerGone();

    figures.push(`activation: ${activationMs(o.server.userDataDir)} ms in activate()`);
    await wb.runCommand('Debug: Stop');
  } finally {
    await browser.close();
  }
  o.say('figures:');
  for (const f of figures) o.say(`  ${f}`);
}
