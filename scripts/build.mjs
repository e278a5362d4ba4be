// One build for both products: the extension (dist/extension.js) and the sidecar as one
// self-contained file that runs on plain Node 20+ without node_modules.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minifySyntax: true,
  logLevel: 'warning',
  // ws loads these native speed-ups only if present; the sidecar must not need them.
  external: ['bufferutil', 'utf-8-validate'],
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/vscode/extension.ts'],
    outfile: 'dist/extension.js',
    external: [...common.external, 'vscode'],
    alias: { punycode: 'punycode/punycode.js' },
    define: { INTERCEPT_VERSION: JSON.stringify(version) },
    // The Kubernetes client is most of the bundle: minified, it loads faster and ships smaller.
    // Names are kept so stack traces and errors stay readable (with the source map).
    minify: true,
    keepNames: true,
  }),
  // The command line on the same core as the extension (bin `intercept`).
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
    alias: { punycode: 'punycode/punycode.js' },
    define: { INTERCEPT_VERSION: JSON.stringify(version) },
  }),
  build({
    ...common,
    entryPoints: ['proxy-image/src/main.ts'],
    outfile: 'proxy-image/dist/intercept-proxy.js',
    banner: { js: '#!/usr/bin/env node' },
    define: { INTERCEPT_VERSION: JSON.stringify(version) },
  }),
]);
