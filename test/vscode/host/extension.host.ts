// Runs inside the VS Code extension host (see test/harness/vscode/hostTests.ts), with the real API.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { hostTest } from '../../harness/vscode/hostRuntime.js';
import { CommandId } from '../../../src/vscode/ids.js';
import type { InterceptApi } from '../../../src/vscode/extension.js';

const EXTENSION_ID = 'intercept-dev.intercept';

hostTest('the extension is present and activates', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is loaded`);
  await ext.activate();
  assert.equal(ext.isActive, true);
});

hostTest('every command in package.json is registered, and ids.ts names them all', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  const manifest = JSON.parse(readFileSync(path.join(ext.extensionPath, 'package.json'), 'utf8')) as {
    contributes: { commands: { command: string }[] };
  };
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(contributed, Object.values(CommandId).sort());
  const registered = new Set(await vscode.commands.getCommands(true));
  for (const id of contributed) assert.ok(registered.has(id), `${id} is registered`);
});

hostTest('intercept.showLog runs', async () => {
  await vscode.commands.executeCommand(CommandId.showLog);
});

hostTest('the bundled Kubernetes client runs in the extension host: kubeconfig contexts, and a typed error without one', async () => {
  const ext = vscode.extensions.getExtension<InterceptApi>(EXTENSION_ID);
  assert.ok(ext);
  const api = await ext.activate();
  const dir = mkdtempSync(path.join(tmpdir(), 'intercept-host-kubeconfig-'));
  try {
    const file = path.join(dir, 'config');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'dev',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [
          { name: 'dev', context: { cluster: 'c', user: 'u', namespace: 'shop' } },
          { name: 'ops', context: { cluster: 'c', user: 'u' } },
        ],
      }),
    );
    const found = api.kubeContexts(file);
    assert.ok(found.ok, JSON.stringify(found));
    assert.deepEqual(found.value.map((c) => [c.name, c.namespace, c.current]), [
      ['dev', 'shop', true],
      ['ops', 'default', false],
    ]);
    const missing = api.kubeContexts(path.join(dir, 'none'));
    assert.ok(!missing.ok && missing.failure.kind === 'no-kubeconfig', JSON.stringify(missing));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
