// Bundles the extension (dist/extension.js), the chat webview (dist/webview/main.js + main.css),
// the usage view (dist/webview/usage.js + usage.css)
// and, with --tests, the TypeScript tests (out/test/**). --production minifies and drops source maps.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');
const at = (...p) => join(root, ...p);

const common = {
  bundle: true,
  logLevel: 'warning',
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: production ? 'none' : 'inline',
};

const builds = [
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/extension.ts')],
    outfile: at('dist/extension.js'),
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  }),
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/chat/webview/main.ts')],
    outfile: at('dist/webview/main.js'),
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
  }),
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/chat/webview/style.css')],
    outfile: at('dist/webview/main.css'),
  }),
  // The usage view (request log and spend).
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/usage/webview/main.ts')],
    outfile: at('dist/webview/usage.js'),
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
  }),
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/usage/webview/style.css')],
    outfile: at('dist/webview/usage.css'),
  }),
  // Usage and Costs (the organization's bill, with uPlot bundled in).
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/orgCosts/webview/main.ts')],
    outfile: at('dist/webview/costs.js'),
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
  }),
  esbuild.build({
    ...common,
    entryPoints: [at('extension/src/orgCosts/webview/style.css')],
    outfile: at('dist/webview/costs.css'),
  }),
];

if (tests) {
  rmSync(at('out/test'), { recursive: true, force: true });
  for (const kind of ['unit', 'webview']) {
    const dir = at('extension/test', kind);
    const entries = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f));
    builds.push(
      esbuild.build({
        ...common,
        sourcemap: 'inline',
        entryPoints: entries,
        outdir: at('out/test', kind),
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        // Tests never load VS Code; playwright-core stays a real module (it spawns the browser).
        external: ['vscode', 'playwright-core'],
        define: { __REPO_ROOT__: JSON.stringify(root) },
      }),
    );
  }
}

await Promise.all(builds);
