// Builds the sidecar as an older commit had it, to test that newer clients still work with sidecars
// already running in clusters. The sources come from git; the build is the same esbuild bundle as
// scripts/build.mjs makes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '../..');

/** The last commit of the sidecar with tunnel protocol version 1 only (no outbound endpoint). */
export const PROTOCOL_1_COMMIT = 'ee9a0cd';

export interface OlderSidecar {
  readonly bundle: string;
  remove(): void;
}

export async function buildOlderSidecar(commit: string): Promise<OlderSidecar> {
  const dir = mkdtempSync(path.join(tmpdir(), 'intercept-older-sidecar-'));
  try {
    const archive = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', commit, 'proxy-image/src', 'src/protocol']);
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    const bundle = path.join(dir, 'intercept-proxy.js');
    await build({
      entryPoints: [path.join(dir, 'proxy-image/src/main.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
      external: ['bufferutil', 'utf-8-validate'],
      nodePaths: [path.join(ROOT, 'node_modules')],
      define: { INTERCEPT_VERSION: JSON.stringify(`older-${commit}`) },
    });
    return { bundle, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
