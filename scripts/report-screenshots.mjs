// The README's screenshots of `hotpatch report`, from the demo's log (run `pnpm demo` first): the halted rollout and
// a device's path, taken in Debian's Chromium. node scripts/report-screenshots.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-shots-'));
const cli = (...argv) => execFileSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), ...argv], { stdio: 'inherit' });
cli('report', '--store', `sqlite:${join(root, 'out/demo/hotpatch.db')}`, '--rollout', 'HP-2026-02', '--out', join(dir, 'rollout.html'));
cli('report', '--store', `sqlite:${join(root, 'out/demo/hotpatch.db')}`, '--device', 'dev-00001', '--out', join(dir, 'device.html'));
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
for (const [name, section, at] of [
  ['rollout', '#rollout', '2026-02-11T08:00:00Z'],
  ['device', '#device', '2026-02-11T08:00:00Z'],
]) {
  await page.goto(pathToFileURL(join(dir, `${name}.html`)).href);
  await page.fill('#cursor-time', at);
  await page.press('#cursor-time', 'Enter');
  await page.locator(section).screenshot({ path: join(root, `docs/report-${name}.png`) });
}
await browser.close();
