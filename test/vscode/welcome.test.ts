// What a user sees without a cluster: the Services view shows its welcome content (what to do, a
// Refresh button) and, in its title, the error itself (what was looked for); no tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, waitUntil } from '../harness/vscode/codeServer.js';
import { withWorkbench } from '../harness/vscode/workbench.js';

void test('no kubeconfig: the Services view explains, names what it looked for and offers Refresh', { timeout: 240_000 }, async (t) => {
  await withWorkbench(t, { extensionDevelopmentPath: REPO_ROOT, env: { KUBECONFIG: '/nonexistent/intercept-test/config' } }, async (wb) => {
    await wb.openView('Kubernetes Services');
    const pane = wb.page.locator('.pane').filter({ has: wb.page.locator('.pane-header', { hasText: /Kubernetes Services/i }) });
    const shown = await waitUntil('the welcome view', 60_000, async () => {
      const text = await pane.innerText().catch(() => '');
      return /No Kubernetes cluster is configured/.test(text) ? text : undefined;
    });
    assert.match(shown, /No kubeconfig found: none of the files in KUBECONFIG \(\/nonexistent\/intercept-test\/config\) exists/);
    assert.match(shown, /aws eks update-kubeconfig/);
    assert.ok(await pane.getByRole('button', { name: 'Refresh' }).isVisible(), 'a Refresh button');
    assert.equal(await pane.getByRole('treeitem').count(), 0, 'no tree items');
  });
});
