// Tests that run inside the extension host of a real VS Code, against the `vscode` API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportHostResults, runHostTests } from '../harness/vscode/hostTests.js';

void test('extension-host tests (test/vscode/host/*.host.ts)', { timeout: 300_000 }, async (t) => {
  const results = await runHostTests(t, ['test/vscode/host/extension.host.ts']);
  assert.ok(results.length > 0, 'the extension host ran the tests');
  await reportHostResults(t, results);
});
