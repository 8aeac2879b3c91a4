// The README's screenshot of the live console (`hotpatch serve` at /): the demo's store (run `pnpm demo` first),
// copied, served on loopback with the ticks off (the demo's log stays as it is), an operator signed in, the halted
// rollout shown, taken in Debian's Chromium. node scripts/console-screenshot.mjs
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildServer, issueToken } from '../packages/server/dist/index.js';
import { openSqliteEventStore } from '../packages/store-sqlite/dist/index.js';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-console-shot-'));
copyFileSync(join(root, 'out/demo/hotpatch.db'), join(dir, 'hotpatch.db'));
const store = openSqliteEventStore({ path: join(dir, 'hotpatch.db') });
const app = await buildServer({ store, logger: false, tickIntervalMs: 0 });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
const { token } = await issueToken(store, { role: 'operator' });
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(`${url}/#rollout=HP-2026-02`);
  await page.fill('#token', token);
  await page.click('#sign-in button[type=submit]');
  await page.waitForSelector('#report [data-rollout-state]');
  await page.fill('#pause-reason', 'incident review');
  await page.screenshot({ path: join(root, 'docs/console.png'), clip: { x: 0, y: 0, width: 1100, height: 900 } });
} finally {
  await browser.close();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
