// Runs inside the VS Code extension host (see test/harness/vscode/hostTests.ts), with the real API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { hostTest } from '../../harness/vscode/hostRuntime.js';
import { CommandId } from '../../../src/vscode/ids.js';

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
