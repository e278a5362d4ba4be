// The side of the extension-host test runner that runs INSIDE the VS Code extension host.
// Test files call hostTest(); VS Code calls run() (the module is given as extensionTestsPath), which
// runs the tests one after another and writes the results as JSON to $INTERCEPT_HOST_RESULTS.
// run() itself always resolves: the results file, not the extension host's exit, carries the verdict.
import { writeFileSync } from 'node:fs';

export interface HostTestResult {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}

export interface HostTestReport {
  results: HostTestResult[];
  /** Set when the runner itself failed (no results file path, say). */
  error?: string;
}

type HostTestFn = () => unknown;
const registered: { name: string; fn: HostTestFn }[] = [];

/** Registers a test to run inside the extension host (with the real `vscode` API). */
export function hostTest(name: string, fn: HostTestFn): void {
  registered.push({ name, fn });
}

export const RESULTS_ENV = 'INTERCEPT_HOST_RESULTS';

export async function run(): Promise<void> {
  const out = process.env[RESULTS_ENV];
  const results: HostTestResult[] = [];
  for (const { name, fn } of registered) {
    const started = Date.now();
    try {
      await fn();
      results.push({ name, ok: true, durationMs: Date.now() - started });
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.push({ name, ok: false, durationMs: Date.now() - started, error });
    }
  }
  const report: HostTestReport = out ? { results } : { results, error: `${RESULTS_ENV} is not set` };
  if (out) writeFileSync(out, JSON.stringify(report, null, 2));
}
