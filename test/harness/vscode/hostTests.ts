// Runs tests INSIDE the extension host of a real VS Code, against the `vscode` API, the way
// @vscode/test-electron does for desktop VS Code: the test files (which call hostTest() from
// hostRuntime.ts) are bundled into one CommonJS module, code-server is started with the extension as
// extensionDevelopmentPath and that module as extensionTestsPath, a browser opens the workbench (the
// extension host starts only when a window connects), and the results come back through a JSON file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { REPO_ROOT, waitUntil, type CodeServerOptions } from './codeServer.js';
import { RESULTS_ENV, type HostTestReport, type HostTestResult } from './hostRuntime.js';
import { withWorkbench } from './workbench.js';

export type { HostTestResult } from './hostRuntime.js';

export interface HostTestOptions extends Omit<CodeServerOptions, 'extensionTestsPath'> {
  /** Bound for the whole in-host run. Default 120 s. */
  timeoutMs?: number;
}

interface TestContextLike {
  name: string;
  diagnostic?(message: string): void;
  test(name: string, fn: () => void): Promise<void>;
}

/** Bundles `testFiles` with the in-host runtime into `outDir/index.js` and returns its path. */
export async function bundleHostTests(testFiles: string[], outDir: string): Promise<string> {
  const runtime = path.join(import.meta.dirname, 'hostRuntime.ts');
  const contents = [
    `export { run } from ${JSON.stringify(runtime)};`,
    ...testFiles.map((f) => `import ${JSON.stringify(path.resolve(REPO_ROOT, f))};`),
  ].join('\n');
  const outfile = path.join(outDir, 'index.js');
  await build({
    stdin: { contents, resolveDir: REPO_ROOT, loader: 'ts', sourcefile: 'host-tests-entry.ts' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode'],
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * Runs the in-host test files in a fresh code-server with the extension loaded from the source folder
 * and returns one result per hostTest(). Throws if the run does not report within the bound.
 */
export async function runHostTests(
  t: { name: string; diagnostic?(message: string): void },
  testFiles: string[],
  options: HostTestOptions = {},
): Promise<HostTestResult[]> {
  const work = mkdtempSync(path.join(tmpdir(), 'intercept-host-tests-'));
  try {
    const entry = await bundleHostTests(testFiles, work);
    const resultsFile = path.join(work, 'results.json');
    const { timeoutMs = 120_000, ...serverOptions } = options;
    return await withWorkbench(
      t,
      {
        extensionDevelopmentPath: REPO_ROOT,
        ...serverOptions,
        extensionTestsPath: entry,
        env: { ...serverOptions.env, [RESULTS_ENV]: resultsFile },
      },
      async () => {
        await waitUntil('the extension-host tests to report', timeoutMs, () => Promise.resolve(existsSync(resultsFile) ? true : undefined), 200);
        const report = JSON.parse(readFileSync(resultsFile, 'utf8')) as HostTestReport;
        if (report.error) throw new Error(`extension-host test run failed: ${report.error}`);
        return report.results;
      },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reports each in-host result as a subtest of `t`, so node's reporter lists and counts them. */
export async function reportHostResults(t: TestContextLike, results: HostTestResult[]): Promise<void> {
  for (const r of results) {
    await t.test(r.name, () => {
      if (!r.ok) throw new Error(r.error ?? 'failed');
    });
  }
}
