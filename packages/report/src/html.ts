/**
 * The report as one HTML file: the page's script and style (bundled at build time by scripts/bundle-report-page.mjs)
 * and the report's data inlined, so that it opens from file:// and asks the network for nothing.
 */
import { readFileSync } from 'node:fs';
import { EnvironmentError } from '@hotpatch/core';
import type { ReportData } from './model.js';

/** The page's bundle is missing: the build did not run its last step. */
export class ReportPageMissingError extends EnvironmentError {
  readonly code = 'REPORT_PAGE_MISSING';
}

const BUNDLE = new URL('../dist/page.js', import.meta.url);
const STYLE = new URL('../dist/page.css', import.meta.url);

export interface PageAssets {
  readonly script: string;
  readonly style: string;
}

export function pageAssets(): PageAssets {
  try {
    return { script: readFileSync(BUNDLE, 'utf8'), style: readFileSync(STYLE, 'utf8') };
  } catch {
    throw new ReportPageMissingError(`the report page is not built (${BUNDLE.pathname}): run \`node scripts/bundle-report-page.mjs\` after \`tsc -b\` (pnpm build does)`);
  }
}

/** Text safe inside a <script> element: no `</script`, no `<!--` (JSON and JavaScript read `\u003c` as `<`). */
const inScript = (text: string) => text.replace(/<(?=\/script|!--)/gi, '\\u003c');
const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function reportHtml(data: ReportData, assets: PageAssets = pageAssets()): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>hotpatch report — ${escapeHtml(data.title)}</title>
<style>${assets.style.replace(/<\/style/gi, '<\\/style')}</style>
</head>
<body>
<noscript>This report draws its charts with JavaScript; its data is in the page's source (script#report-data).</noscript>
<main id="report" aria-live="polite"></main>
<script type="application/json" id="report-data">${json}</script>
<script>${inScript(assets.script)}</script>
</body>
</html>
`;
}

/**
 * The Content-Security-Policy the console is served with: its script and style from its own origin only (no inline
 * script or style attribute), its requests to its own origin only, no form posted anywhere, not framed.
 */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The live console's page (served by `hotpatch serve` at `base`): the report's bundle and style as files beside it
 * (`${base}console/page.js`, `${base}console/page.css`), and no data — the page asks the service for it once a
 * person signed in.
 */
export function consoleHtml(base: string): string {
  const at = escapeHtml(base.endsWith('/') ? base : `${base}/`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>hotpatch console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${at}console/page.css">
<script defer src="${at}console/page.js"></script>
</head>
<body>
<noscript>The console draws the service's log with JavaScript.</noscript>
<main id="console" data-base="${at}"></main>
</body>
</html>
`;
}
