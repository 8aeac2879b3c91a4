// How long a report takes to open in Chromium (Debian's, headless): from navigation to the page drawn (its time
// cursor in place), and then how long moving the cursor and drilling into the largest ring take.
// node packages/report/bench/open.bench.mjs report.html [more.html …]
import { chromium } from 'playwright-core';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
try {
  for (const file of process.argv.slice(2)) {
    const page = await browser.newPage();
    page.setDefaultTimeout(120_000);
    const started = performance.now();
    await page.goto(pathToFileURL(resolve(file)).href);
    await page.waitForSelector('#cursor-devices table');
    const opened = performance.now() - started;
    // A keyboard step of the cursor: every device looked up again, the tables redrawn.
    await page.focus('#cursor-slider');
    const moving = performance.now();
    await page.keyboard.press('PageDown');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(undefined))));
    const moved = performance.now() - moving;
    // Drill-down into the first aggregated ring.
    const drill = await page.$('.drill button');
    let drilled = NaN;
    if (drill) {
      const t = performance.now();
      await drill.click();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(undefined))));
      drilled = performance.now() - t;
    }
    console.log(`${file}: ${(statSync(file).size / 1024 / 1024).toFixed(2)} MB, opened in ${(opened / 1000).toFixed(2)} s; cursor step ${moved.toFixed(0)} ms; drill-down ${drilled.toFixed(0)} ms`);
    await page.close();
  }
} finally {
  await browser.close();
}
