// The extension activates in a real VS Code and its command runs from the command palette, both when
// loaded from the source folder (extensionDevelopmentPath) and when installed from the packaged .vsix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, packageVsix } from '../harness/vscode/codeServer.js';
import { withWorkbench } from '../harness/vscode/workbench.js';

const TIMEOUT = 240_000;

void test('"Intercept: Show Log" shows the Intercept output channel (extension from the source folder)', { timeout: TIMEOUT }, async (t) => {
  await withWorkbench(t, { extensionDevelopmentPath: REPO_ROOT }, async (wb) => {
    await wb.runCommand('Intercept: Show Log');
    const shown = await wb.waitForOutput('Intercept', /\[info\] Intercept activated/);
    assert.match(shown, /Intercept activated/);
  });
});

void test('"Intercept: Show Log" shows the Intercept output channel (extension installed from the .vsix)', { timeout: TIMEOUT }, async (t) => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'intercept-vsix-'));
  try {
    const vsix = await packageVsix(outDir);
    await withWorkbench(t, { vsix: [vsix] }, async (wb) => {
      await wb.runCommand('Intercept: Show Log');
      const shown = await wb.waitForOutput('Intercept', /\[info\] Intercept activated/);
      assert.match(shown, /Intercept activated/);
    });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});
