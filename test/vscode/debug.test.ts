// A Node debug session started from a workspace's launch.json stops on a breakpoint in an HTTP handler
// when a request arrives, and the request is answered once the session continues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, freePort, waitUntil } from '../harness/vscode/codeServer.js';
import { markedLine } from '../harness/vscode/marked-line.js';
import { withWorkbench } from '../harness/vscode/workbench.js';

const APP = path.join(REPO_ROOT, 'test', 'fixtures', 'debug-app');
const APP_FILE = 'server.mjs';
const breakpointLine = markedLine(path.join(APP, APP_FILE));

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

interface Answer {
  status: number;
  body: string;
}
const get = (port: number, pathname: string) =>
  new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, timeout: 120_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });

void test('a launch.json debug session pauses on a breakpoint when a request arrives, and answers after continue', { timeout: 300_000 }, async (t) => {
  assert.ok(breakpointLine > 0, 'the fixture marks its breakpoint line');
  const port = await freePort();
  // A copy: keys the editor takes while a command's palette is not yet open must not reach the repo.
  const workspace = mkdtempSync(path.join(tmpdir(), 'intercept-debug-app-'));
  cpSync(APP, workspace, { recursive: true });
  t.after(() => rmSync(workspace, { recursive: true, force: true }));
  await withWorkbench(t, { workspace, extensionDevelopmentPath: REPO_ROOT, env: { DEBUG_APP_PORT: String(port) } }, async (wb) => {
    await wb.setBreakpoint(APP_FILE, breakpointLine);

    await wb.runCommand('Debug: Start Debugging');
    await waitUntil(`the debuggee listening on 127.0.0.1:${port}`, 90_000, async () => ((await canConnect(port)) ? true : undefined), 250);

    let answered = false;
    const t0 = Date.now();
    // Settles to the answer or the error, so a failed request is reported where it is awaited.
    const answer = get(port, '/from-the-test').then(
      (a) => a,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    void answer.finally(() => (answered = true));
    const callStack = await wb.waitForPaused('breakpoint', 60_000);
    t.diagnostic(`paused ${Date.now() - t0} ms after the request was sent`);
    assert.match(callStack, /paused on breakpoint/i);
    assert.equal(answered, false, 'the request waits while the debuggee is paused');

    await wb.runCommand('Debug: Continue');
    const result = await answer;
    if (result instanceof Error) throw result;
    const { status, body } = result;
    assert.equal(status, 200);
    assert.equal(body, 'hello from /from-the-test\n');

    await wb.runCommand('Debug: Stop');
    await waitUntil('the debuggee to end', 30_000, async () => ((await canConnect(port)) ? undefined : true), 250);
  });
});
