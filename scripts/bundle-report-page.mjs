// Bundles the report page's script and style (packages/report/src/page/) into packages/report/dist/page.js and
// page.css, which `hotpatch report` inlines into each report: run after `tsc -b` (the build, test, demo and bench
// scripts do). esbuild, because the page must be one file with no module loading at view time (it opens from file://).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const report = fileURLToPath(new URL('../packages/report/', import.meta.url));
await build({
  entryPoints: [`${report}src/page/main.ts`],
  outfile: `${report}dist/page.js`,
  bundle: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
