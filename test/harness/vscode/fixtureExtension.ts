// Builds a small extension kept as a test fixture (a folder with package.json and extension.ts) into
// a folder VS Code can load as extensionDevelopmentPath.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

export async function buildFixtureExtension(fixtureDir: string, outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  copyFileSync(path.join(fixtureDir, 'package.json'), path.join(outDir, 'package.json'));
  await build({
    entryPoints: [path.join(fixtureDir, 'extension.ts')],
    outfile: path.join(outDir, 'dist', 'extension.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  });
  return outDir;
}
