// Drives a code-server workbench in a real browser (Debian's Chromium through playwright-core), in
// the ways a user would: the command palette, the status bar, tree views, context menus,
// notifications, the output panel. Every wait is on a condition with a bound; nothing sleeps.
//
//   await withWorkbench(t, { extensionDevelopmentPath: REPO_ROOT }, async (wb) => {
//     await wb.runCommand('Intercept: Show Log');
//     await wb.waitForOutput('Intercept', /Intercept activated/);
//   });
//
// On failure withWorkbench saves a screenshot and the server's log under .test-artifacts/vscode/.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { REPO_ROOT, RUN_MARKER_VAR, startCodeServer, waitUntil, type CodeServer, type CodeServerOptions } from './codeServer.js';

export const CHROMIUM = process.env.INTERCEPT_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(REPO_ROOT, '.test-artifacts', 'vscode');

/** Chromium flags for a quiet, offline, headless run. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Default bound for waits on the UI; the machine may be busy. */
export const UI_TIMEOUT_MS = 30_000;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A pattern that matches exactly `text` (surrounding whitespace allowed). */
export const exactly = (text: string) => new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`);
/** Text that is `text`, or starts with it and goes on after a comma or a space (a tree item's name and its description). */
export const startingWith = (text: string) => new RegExp(`^${escapeRegExp(text)}([,\\s]|$)`);
const asPattern = (text: string | RegExp) => (typeof text === 'string' ? new RegExp(escapeRegExp(text)) : text);
/** Monaco renders spaces as no-break spaces; compare text with ordinary ones. */
const plain = (s: string) => s.replace(/\u00a0/g, ' ');

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile folder and one page. */
export async function launchBrowser(): Promise<BrowserSession> {
  const profile = mkdtempSync(path.join(tmpdir(), 'intercept-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1600, height: 1000 },
    timeout: 60_000,
    // Marked like the servers, so a browser that outlives its test is found and ended.
    env: { ...process.env, [RUN_MARKER_VAR]: `browser-${randomUUID()}` },
  });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export class Workbench {
  constructor(
    readonly page: Page,
    readonly server: CodeServer,
  ) {}

  /** Loads the workbench and waits until it is laid out (status bar shown). */
  async open(timeoutMs = 60_000): Promise<void> {
    await this.page.goto(this.server.workbenchUrl, { timeout: timeoutMs });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
    await this.statusBar().waitFor({ state: 'visible', timeout: timeoutMs });
  }

  // ---- command palette ----------------------------------------------------------------------

  /** The quick input (command palette, quick open, pickers). */
  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * Runs a command by its exact title as the palette shows it ("Intercept: Show Log"). Enter would
   * run the first fuzzy match, so this clicks the row whose label is exactly the title.
   */
  async runCommand(title: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    await this.openQuickInput('>' + title, timeoutMs);
    await this.pickQuickInputRow(title, timeoutMs, '>' + title);
  }

  /** Opens the palette with `value` typed into it ('>' prefix: commands, none: files). */
  async openQuickInput(value: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    const input = this.quickInputBox();
    if (!(await input.isVisible())) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: timeoutMs });
    }
    await input.fill(value);
  }

  /** The text box of the quick input. */
  quickInputBox(): Locator {
    return this.quickInput().locator('input.input');
  }

  /** The rows the quick input currently lists. */
  quickInputRows(): Locator {
    return this.quickInput().locator('.quick-input-list .monaco-list-row');
  }

  /** The quick-input row labelled exactly `label` (by its accessible name or its shown label). */
  quickInputRow(label: string): Locator {
    const byName = this.quickInput().getByRole('option', { name: label, exact: true });
    const byLabel = this.quickInputRows().filter({ has: this.page.locator('.label-name', { hasText: exactly(label) }) });
    return byName.or(byLabel).first();
  }

  /**
   * Clicks the quick-input row labelled exactly `label`, waiting for it to be listed. A list computed
   * before an extension registered its contributions is not refreshed by itself, so while the row is
   * missing `retype` (when given) is typed again now and then.
   */
  async pickQuickInputRow(label: string, timeoutMs = UI_TIMEOUT_MS, retype?: string): Promise<void> {
    const row = this.quickInputRow(label);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      try {
        await row.waitFor({ state: 'visible', timeout: retype === undefined ? Math.max(left, 1) : Math.max(Math.min(left, 3_000), 1) });
        break;
      } catch (err) {
        if (retype === undefined || Date.now() >= deadline) throw err;
        await this.openQuickInput(retype.slice(0, -1), timeoutMs);
        await this.quickInputBox().press('End');
        await this.quickInputBox().pressSequentially(retype.slice(-1));
      }
    }
    await row.click();
    // The picker closes, or (for a command that opens another picker) lists other rows.
    await row.waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /**
   * In a quick pick that allows several choices: checks exactly the rows labelled `labels`, unchecks
   * every other row, and accepts.
   */
  async pickQuickInputRows(labels: readonly string[], timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    await this.quickInputRows().first().waitFor({ state: 'visible', timeout: timeoutMs });
    const rows = this.quickInputRows();
    for (let i = 0; i < (await rows.count()); i++) {
      const row = rows.nth(i);
      const label = (await row.locator('.label-name').first().innerText()).trim();
      const box = row.getByRole('checkbox');
      if ((await box.isChecked()) !== labels.includes(label)) await box.click();
    }
    for (const label of labels) assert.ok(await this.quickInputRow(label).getByRole('checkbox').isChecked(), `the row "${label}" is listed and checked`);
    await this.quickInputBox().press('Enter');
    await this.quickInput().waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Opens a workspace file through quick open, optionally at a line ("server.js:12"). */
  async openFile(relativePath: string, line?: number, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    // Without the '>' prefix the palette is quick open, which searches the workspace's files.
    const name = path.basename(relativePath);
    const query = line === undefined ? relativePath : `${relativePath}:${line}`;
    await this.openQuickInput(query, timeoutMs);
    await this.pickQuickInputRow(name, timeoutMs, query);
    await this.editorTab(name).waitFor({ state: 'visible', timeout: timeoutMs });
  }

  // ---- editors -------------------------------------------------------------------------------

  /** The editor tab titled `name`. */
  editorTab(name: string): Locator {
    return this.page.locator('.tabs-container .tab').filter({ has: this.page.locator('.label-name', { hasText: exactly(name) }) });
  }

  /** The active editor's (visible) line numbers that carry a breakpoint glyph. */
  async breakpointLines(): Promise<number[]> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor').first();
    // Line numbers and glyph-margin decorations are drawn in different layers; pair them by height.
    const rows: { line: number; y: number }[] = [];
    for (const el of await editor.locator('.line-numbers').all()) {
      const line = Number(await el.textContent());
      const box = await el.boundingBox();
      if (Number.isFinite(line) && box) rows.push({ line, y: box.y + box.height / 2 });
    }
    const lines: number[] = [];
    for (const glyph of await editor.locator('.codicon-debug-breakpoint').all()) {
      const box = await glyph.boundingBox();
      if (!box) continue;
      const y = box.y + box.height / 2;
      const nearest = rows.reduce<{ line: number; y: number } | undefined>(
        (best, r) => (best === undefined || Math.abs(r.y - y) < Math.abs(best.y - y) ? r : best),
        undefined,
      );
      if (nearest && Math.abs(nearest.y - y) < box.height) lines.push(nearest.line);
    }
    return [...new Set(lines)].sort((x, y) => x - y);
  }

  /**
   * Sets a breakpoint on `line` of the workspace file `relativePath` with F9, as a person would. A
   * toggle sent before the editor is ready can be lost, so a missing breakpoint is toggled again
   * (never a present one, which would remove it).
   */
  async setBreakpoint(relativePath: string, line: number): Promise<void> {
    await this.openFile(relativePath, line);
    for (let attempt = 1; ; attempt++) {
      await this.page.locator('.editor-group-container.active .monaco-editor textarea').first().focus();
      await this.page.keyboard.press('F9');
      try {
        await waitUntil(`a breakpoint on line ${line}`, 10_000, async () => ((await this.breakpointLines()).includes(line) ? true : undefined));
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  }

  // ---- dialogs ------------------------------------------------------------------------------

  /** Waits for a modal dialog whose message matches, and clicks its button labelled `button`. */
  async answerDialog(message: string | RegExp, button: string, timeoutMs = UI_TIMEOUT_MS): Promise<string> {
    const dialog = this.page.locator('.monaco-dialog-box').filter({ hasText: asPattern(message) }).first();
    await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
    const text = plain(await dialog.innerText());
    await dialog.getByRole('button', { name: button, exact: true }).click();
    await dialog.waitFor({ state: 'hidden', timeout: timeoutMs });
    return text;
  }

  // ---- debugging ----------------------------------------------------------------------------

  /** The Call Stack view of Run and Debug. */
  callStack(): Locator {
    return this.page.locator('.debug-call-stack');
  }

  /**
   * Waits until the call stack says the debuggee is paused for `reason` ("breakpoint", "step",
   * "exception", ...) and returns the call stack's text.
   */
  async waitForPaused(reason = 'breakpoint', timeoutMs = UI_TIMEOUT_MS): Promise<string> {
    const label = this.callStack().getByText(new RegExp(`paused on ${escapeRegExp(reason)}`, 'i')).first();
    await label.waitFor({ state: 'visible', timeout: timeoutMs });
    return plain(await this.callStack().innerText());
  }

  // ---- status bar ----------------------------------------------------------------------------

  statusBar(): Locator {
    return this.page.locator('.part.statusbar');
  }

  /** The status bar entries' texts, left to right. */
  async statusBarTexts(): Promise<string[]> {
    const texts = await this.statusBar().locator('.statusbar-item').allInnerTexts();
    return texts.map((t) => t.trim()).filter((t) => t.length > 0);
  }

  /** The status bar entry whose text matches. */
  statusBarItem(text: string | RegExp): Locator {
    return this.statusBar().locator('.statusbar-item').filter({ hasText: typeof text === 'string' ? exactly(text) : text });
  }

  // ---- tree views and context menus ----------------------------------------------------------

  /** Opens (and focuses) a view by its name, as "View: Open View" lists it ("Explorer", "Probe Items"). */
  async openView(name: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    // The palette's "view " prefix lists views by name.
    await this.openQuickInput(`view ${name}`, timeoutMs);
    await this.pickQuickInputRow(name, timeoutMs, `view ${name}`);
  }

  /** A tree item by its accessible label (exact when a string). */
  treeItem(label: string | RegExp, within?: Locator): Locator {
    const scope = within ?? this.page;
    return typeof label === 'string'
      ? scope.getByRole('treeitem', { name: label, exact: true })
      : scope.getByRole('treeitem', { name: label });
  }

  /** Right-clicks `target` and returns the context menu that opened. */
  async openContextMenu(target: Locator, timeoutMs = UI_TIMEOUT_MS): Promise<Locator> {
    await target.waitFor({ state: 'visible', timeout: timeoutMs });
    await target.click({ button: 'right' });
    const menu = this.page.locator('.context-view .monaco-menu').first();
    await menu.waitFor({ state: 'visible', timeout: timeoutMs });
    return menu;
  }

  /** The labels of a context menu's entries. */
  async menuItemLabels(menu: Locator): Promise<string[]> {
    const labels = await menu.getByRole('menuitem').allInnerTexts();
    return labels.map((l) => (l.split('\n')[0] ?? '').trim()).filter((l) => l.length > 0);
  }

  /** Clicks the context menu entry labelled exactly `label`. */
  async clickMenuItem(menu: Locator, label: string, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
    const item = menu.getByRole('menuitem', { name: label, exact: true });
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
    // A synthetic click on a context-menu entry did not run it (VS Code 1.100 in headless Chromium);
    // choosing the entry with the keyboard, as a user may, does.
    await item.hover();
    await item.focus();
    await item.press('Enter');
    await menu.waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  // ---- notifications ------------------------------------------------------------------------

  /** Waits for a notification toast whose message matches, and returns it. */
  async waitForNotification(text: string | RegExp, timeoutMs = UI_TIMEOUT_MS): Promise<Locator> {
    const toast = this.page
      .locator('.notifications-toasts .notification-toast')
      .filter({ has: this.page.locator('.notification-list-item-message', { hasText: asPattern(text) }) })
      .first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return toast;
  }

  // ---- panels -------------------------------------------------------------------------------

  /** The panel area (Problems, Output, Debug Console, Terminal). */
  panel(): Locator {
    return this.page.locator('.part.panel');
  }

  /**
   * Waits until the Output panel shows the channel `channel` and its text matches `text`.
   * Returns the text as shown.
   */
  async waitForOutput(channel: string, text: string | RegExp, timeoutMs = UI_TIMEOUT_MS): Promise<string> {
    // The output view names the channel it shows in its accessible label: "<channel> - Output".
    const view = this.panel().locator('.output-view');
    const pattern = asPattern(text);
    let last = { channel: '', text: '' };
    try {
      return await waitUntil(`output channel "${channel}" showing ${String(text)}`, timeoutMs, async () => {
        if (!(await view.isVisible())) return undefined;
        const label = (await view.getAttribute('aria-label').catch(() => null)) ?? '';
        const shown = plain(await view.locator('.view-lines').innerText().catch(() => ''));
        last = { channel: label.replace(/ - Output$/, ''), text: shown };
        return last.channel === channel && pattern.test(shown) ? shown : undefined;
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}; shown channel "${last.channel}", text:\n${last.text}`);
    }
  }

  /** Saves a full-page screenshot under .test-artifacts/vscode/ and returns its path. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const file = path.join(ARTIFACTS_DIR, `${safeName(name)}.png`);
    await this.page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
    return file;
  }
}

const safeName = (name: string) => name.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 120);

interface TestContextLike {
  name: string;
  diagnostic?(message: string): void;
}

/**
 * Starts a fresh code-server and browser, opens the workbench, runs `fn`, and always ends both.
 * On failure it saves a screenshot and the server log under .test-artifacts/vscode/<test name>.*
 */
export async function withWorkbench<T>(
  t: TestContextLike,
  options: CodeServerOptions,
  fn: (wb: Workbench) => Promise<T>,
): Promise<T> {
  const server = await startCodeServer(options);
  let browser: BrowserSession | undefined;
  let wb: Workbench | undefined;
  try {
    browser = await launchBrowser();
    wb = new Workbench(browser.page, server);
    await wb.open();
    return await fn(wb);
  } catch (err) {
    const base = safeName(t.name);
    try {
      mkdirSync(ARTIFACTS_DIR, { recursive: true });
      writeFileSync(path.join(ARTIFACTS_DIR, `${base}.code-server.log`), server.log());
      if (wb) {
        const shot = await wb.screenshot(base);
        t.diagnostic?.(`screenshot: ${path.relative(REPO_ROOT, shot)}`);
      }
    } catch {
      // the failure itself matters more than its artifacts
    }
    throw err;
  } finally {
    await browser?.close();
    await server.stop();
  }
}
