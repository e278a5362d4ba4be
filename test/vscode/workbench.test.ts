// The browser library itself, checked against a fixture extension's UI: a tree view with a context
// menu, a command that shows a notification, and a status bar entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../harness/vscode/codeServer.js';
import { buildFixtureExtension } from '../harness/vscode/fixtureExtension.js';
import { UI_TIMEOUT_MS, withWorkbench } from '../harness/vscode/workbench.js';

const PROBE = path.join(REPO_ROOT, 'test', 'fixtures', 'ui-probe');

void test('the browser library finds a tree item, opens its context menu, sees the notification and the status bar', { timeout: 240_000 }, async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'intercept-ui-probe-'));
  try {
    const probe = await buildFixtureExtension(PROBE, out);
    await withWorkbench(t, { extensionDevelopmentPath: probe }, async (wb) => {
      await wb.statusBarItem('Probe ready').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      assert.ok((await wb.statusBarTexts()).includes('Probe ready'));

      await wb.openView('Probe Items');
      const menu = await wb.openContextMenu(wb.treeItem('alpha'));
      assert.ok((await wb.menuItemLabels(menu)).includes('Greet'));
      await wb.clickMenuItem(menu, 'Greet');

      const toast = await wb.waitForNotification('Hello alpha from the probe');
      assert.match(await toast.innerText(), /Hello alpha from the probe/);
      await wb.statusBarItem('Probe greeted alpha').waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
