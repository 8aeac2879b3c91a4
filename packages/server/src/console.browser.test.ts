/**
 * The live console in a real browser (Debian's Chromium, driven by playwright-core) against a real service on
 * loopback over a SQLite file, a rollout under way: a person signs in with a token; the page shows the rollout; an
 * agent's report over HTTP appears without a reload; pause and resume from the page change the rollout as status
 * gives it, and so do a ring's; a device named in a view opens its own view, its path through the lifecycle the one
 * its history gives; a tenant admin sees its tenant alone; an auditor gets no pause button. Nothing is asked of any origin but
 * the service's, no console error, no token in a URL or in the service's logs. Without Chromium the tests are
 * skipped, and say so (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACME_RELEASE, RELEASE, startConsoleFleet, type ConsoleFleet } from './testing/console-fleet.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const available = existsSync(CHROMIUM);
const SKIPPED = `SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`;
if (!available) console.warn(`console.browser.test.ts: ${SKIPPED}`);

describe.skipIf(!available)(`the live console in Chromium${available ? '' : ` — ${SKIPPED}`}`, () => {
  let f: ConsoleFleet;
  let browser: Browser;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });

  beforeAll(async () => {
    f = await startConsoleFleet({ logger: { level: 'info', stream: sink } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await f?.h.close();
  });

  /** Opens the console and signs in; `problems()` lists every request to another origin and every console error. */
  async function signIn(token: string, tenant?: string): Promise<{ page: Page; problems: () => string[] }> {
    const origin = new URL(f.h.url).origin;
    const problems: string[] = [];
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('request', (r) => void (new URL(r.url()).origin !== origin && problems.push(`request ${r.url()}`)));
    page.on('request', (r) => void (r.url().includes(token.slice(3)) && problems.push(`the token in a URL: ${r.url()}`)));
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console error: ${m.text()} (${new URL(m.location().url).pathname})`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    await page.goto(`${f.h.url}/`);
    await page.fill('#token', token);
    if (tenant !== undefined) await page.fill('#tenant', tenant);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#report [data-rollout-state]');
    expect(await page.isVisible('#sign-in')).toBe(false);
    expect(page.url()).toBe(`${f.h.url}/`);
    expect(await page.evaluate(() => sessionStorage.getItem('hotpatch.console.token'))).toBe(token);
    return { page, problems: () => problems };
  }

  /** What Chromium logs of a call the service refused (the ones a test makes on purpose). */
  const refused = (status: number, title: string, path: string) => `console error: Failed to load resource: the server responded with a status of ${status} (${title}) (${path})`;
  const stateOf = (page: Page, device: string) => page.getAttribute(`#cursor-devices tr[data-device="${device}"]`, 'data-state');

  it('shows the rollout to an operator, and an agent’s report appears without a reload', async () => {
    const { page, problems } = await signIn(f.tokens.operator);
    expect(await page.textContent('#rollout h2')).toBe(`Rollout ${RELEASE.id}`);
    expect(await page.$$eval('#subject option', (options) => options.map((o) => o.value))).toEqual([`rollout=${RELEASE.id}`, 'fleet']);
    expect(await stateOf(page, 'd1')).toBe('applying');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await f.report('d1', 'applied', '0190b6c0-0000-7000-8000-0000000000b1');
    await page.waitForSelector('#cursor-devices tr[data-device="d1"][data-state="applied"]');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.$$eval('#feed li', (items) => items.map((li) => li.textContent))).toEqual([expect.stringContaining('device/d1')]);
    // A cursor a person moved stays where it was when the view is drawn again; d2's report shows at the end.
    await page.focus('#cursor-slider');
    await page.keyboard.press('Home');
    const moved = await page.inputValue('#cursor-time');
    await f.report('d2', 'applied', '0190b6c0-0000-7000-8000-0000000000b2');
    await page.waitForSelector('#feed li[data-type] >> nth=1');
    // Drawn again from the data read past d2's report.
    await page.waitForFunction(() => document.querySelector('#who')?.textContent?.endsWith(`to position ${document.querySelector('#feed li')?.getAttribute('data-position')}.`));
    expect(await page.inputValue('#cursor-time')).toBe(moved);
    expect(await page.textContent('#cursor-devices caption')).toBe(`Each device's state at ${moved}`);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('pauses and resumes from the page, as status then gives it; a refused call shows its problem', async () => {
    const { page, problems } = await signIn(f.tokens.operator);
    const status = async () => (await f.h.call('GET', `/v1/rollouts/${RELEASE.id}`, { token: f.tokens.auditor })).body as { state: string; pausedBy: string[] };
    const before = (await status()).state;
    // No reason: the service refuses (400), and the page says why, as the problem's title and detail.
    await page.click('#pause');
    await page.waitForSelector('#console-error:not(:empty)');
    expect(await page.textContent('#console-error')).toBe('Bad Request: body.reason: expected a non-empty string, got ""');
    await page.fill('#pause-reason', 'freeze for the incident');
    await page.click('#pause');
    await page.waitForSelector('#report [data-rollout-state="paused"]');
    expect(await status()).toMatchObject({ state: 'paused', pausedBy: ['service'] });
    expect(await page.textContent('#console-error')).toBe('');
    await page.click('#resume');
    await page.waitForSelector(`#report [data-rollout-state="${before}"]`);
    expect(await status()).toMatchObject({ state: before, pausedBy: [] });
    expect(problems()).toEqual([refused(400, 'Bad Request', `/v1/rollouts/${RELEASE.id}/pause`)]);
    await page.close();
  });

  it('shows a tenant admin its tenant alone, with pause and resume as the tenant', async () => {
    const { page, problems } = await signIn(f.tokens.acmeAdmin);
    expect(await page.textContent('#rollout h2')).toBe(`Rollout ${ACME_RELEASE.id}`);
    expect(await page.$$eval('#subject option', (options) => options.map((o) => o.value))).toEqual([`rollout=${ACME_RELEASE.id}`, 'fleet']);
    expect(await page.$$eval('#cursor-devices tr[data-device]', (rows) => rows.map((r) => r.getAttribute('data-device')).sort())).toEqual(['a1', 'a2']);
    expect(await page.textContent('#pause')).toBe('Pause as the tenant');
    expect(await page.textContent('#ring-pause')).toBe('Pause the ring as the tenant');
    // The fleet: acme's devices alone; another tenant's rollout answers as a missing one.
    await page.selectOption('#subject', 'fleet');
    await page.waitForSelector('#fleet');
    expect(await page.$$eval('#cursor-devices tr[data-device]', (rows) => rows.map((r) => r.getAttribute('data-device')).sort())).toEqual(['a1', 'a2']);
    await page.evaluate((id) => (location.hash = `rollout=${id}`), RELEASE.id);
    await page.waitForSelector('#console-error:not(:empty)');
    expect(await page.textContent('#console-error')).toBe(`Not Found: no rollout ${RELEASE.id}`);
    expect(problems()).toEqual([refused(404, 'Not Found', '/v1/console/data')]);
    await page.close();
  });

  it('shows an operator the tenant it names', async () => {
    const { page, problems } = await signIn(f.tokens.operator, 'acme');
    expect(await page.textContent('#rollout h2')).toBe(`Rollout ${ACME_RELEASE.id}`);
    expect(await page.textContent('#who')).toMatch(/^Signed in as operator \(service-wide\), tenant acme;/);
    expect(await page.textContent('#pause')).toBe('Pause as the service');
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('sends an agent\'s token (a role that may not read the console) back to the sign-in, saying why', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${f.h.url}/`);
    await page.fill('#token', Object.values(f.tokens.agents)[0]!);
    await page.click('#sign-in button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#console-error')?.textContent !== '');
    expect(await page.textContent('#console-error')).toMatch(/^Forbidden: /);
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.isVisible('#signed-in')).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem('hotpatch.console.token'))).toBeNull();
    await page.close();
  });

  it('gives an auditor the view and no pause or resume button', async () => {
    const { page, problems } = await signIn(f.tokens.auditor);
    expect(await page.textContent('#rollout h2')).toBe(`Rollout ${RELEASE.id}`);
    expect(await page.$$('#pause, #resume, #pause-reason')).toEqual([]);
    expect(await page.$$('#ring, #ring-pause, #ring-resume, #ring-pause-reason')).toEqual([]);
    // Signing out forgets the token.
    await page.click('#sign-out');
    expect(await page.evaluate(() => sessionStorage.getItem('hotpatch.console.token'))).toBeNull();
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(problems()).toEqual([]);
    await page.close();
  });

  /** The transitions a device took, as `GET /v1/devices/:id` (history) gives them: before → after, each event. */
  async function pathOf(device: string): Promise<{ edges: string[]; states: string[] }> {
    const { history } = (await f.h.call('GET', `/v1/devices/${device}`, { token: f.tokens.auditor })).body as { history: Array<{ before: { state: string } | null; after: { state: string } }> };
    const initial = ((await f.h.call('GET', `/v1/console/data?device=${device}`, { token: f.tokens.auditor })).body as { data: { lifecycle: { initial: string } } }).data.lifecycle.initial;
    const steps = history.map((s) => [s.before?.state ?? initial, s.after.state] as const);
    return { edges: [...new Set(steps.map(([a, b]) => `${a}→${b}`))].sort(), states: [...new Set(steps.flat())].sort() };
  }
  const highlighted = async (page: Page) => ({
    edges: (await page.$$eval('#device svg.lifecycle path.edge.on', (paths) => paths.map((p) => p.getAttribute('data-edge')!))).sort(),
    states: (await page.$$eval('#device svg.lifecycle g.node.on', (nodes) => nodes.map((n) => n.getAttribute('data-state')!))).sort(),
  });

  it('opens a device’s view from the page, by keyboard or from the rollout’s lanes: its path the one history gives', async () => {
    const { page, problems } = await signIn(f.tokens.operator);
    // From the cursor's table of devices, with the keyboard: Tab reaches the link, Enter follows it.
    await page.focus('#cursor-devices a[data-device-link="d1"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#device h2');
    expect(await page.textContent('#device h2')).toBe('Device d1');
    // The focus goes to the view opened (its heading), as a link followed would take it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('device-h');
    expect(new URL(page.url()).hash).toBe('#device=d1');
    expect(await page.$eval('#subject', (el) => (el as HTMLSelectElement).value)).toBe('device=d1');
    const d1 = await pathOf('d1');
    expect(d1.edges.length).toBeGreaterThan(1);
    expect(await highlighted(page)).toEqual(d1);
    expect(await page.$$eval('#device table tbody tr', (rows) => rows.length)).toBe((await f.h.call('GET', '/v1/devices/d1', { token: f.tokens.auditor })).body.history.length);
    // Back to the rollout, then a device's row of its lanes (a link in the chart) opens that device.
    await page.selectOption('#subject', `rollout=${RELEASE.id}`);
    await page.waitForSelector('#rollout a[data-device-link="d2"]');
    await page.click('#rollout a[data-device-link="d2"]');
    await page.waitForSelector('#device h2:text("Device d2")');
    expect(await highlighted(page)).toEqual(await pathOf('d2'));
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('pauses and resumes a ring from the page, as status then gives it; a refused call shows its problem', async () => {
    const { page, problems } = await signIn(f.tokens.operator);
    const paused = async () => ((await f.h.call('GET', '/v1/status', { token: f.tokens.auditor })).body as { pausedRings: Array<{ ring: string; holds: Array<{ by: string; reason: string }> }> }).pausedRings;
    expect(await paused()).toEqual([]);
    expect(await page.$$eval('#ring option', (options) => options.map((o) => o.value))).toEqual(['pilot', 'broad']);
    await page.selectOption('#ring', 'broad');
    await page.click('#ring-pause');
    await page.waitForSelector('#console-error:not(:empty)');
    expect(await page.textContent('#console-error')).toBe('Bad Request: body.reason: expected a non-empty string, got ""');
    await page.fill('#ring-pause-reason', 'a bad driver in the wild');
    await page.click('#ring-pause');
    await page.waitForSelector('#ring-state[data-state="paused"]');
    expect(await page.textContent('#ring-state')).toBe('Ring broad: paused (paused by service)');
    expect(await paused()).toEqual([expect.objectContaining({ ring: 'broad', holds: [{ by: 'service', reason: 'a bad driver in the wild' }] })]);
    expect(await page.textContent('#console-error')).toBe('');
    await page.click('#ring-resume');
    await page.waitForSelector('#ring-state:not([data-state="paused"])');
    expect(await paused()).toEqual([]);
    expect(problems()).toEqual([refused(400, 'Bad Request', '/v1/rings/broad/pause')]);
    await page.close();
  });

  // An id is any text: the choice's value goes into the page's hash, which is decoded before it is asked for.
  it('opens a rollout whose id holds a % from the choice of views', async () => {
    for (const id of ['HP-50%25-A', 'HP-100%']) {
      expect((await f.h.call('POST', '/v1/rollouts', { token: f.tokens.operator, headers: { 'hotpatch-tenant': 'acme' }, body: { ...ACME_RELEASE, id } })).status).toBe(201);
    }
    const { page, problems } = await signIn(f.tokens.acmeAdmin);
    expect(await page.textContent('#rollout h2')).toBe('Rollout HP-100%');
    await page.selectOption('#subject', { label: 'Rollout HP-50%25-A' });
    await page.waitForSelector('#rollout h2:text("Rollout HP-50%25-A")');
    await page.selectOption('#subject', { label: 'Rollout HP-100%' });
    await page.waitForSelector('#rollout h2:text("Rollout HP-100%")');
    expect(await page.textContent('#console-error')).toBe('');
    expect(problems()).toEqual([]);
    await page.close();
  });

  // A hash typed by hand need not be encoded: a % that starts no escape is itself (decodeURIComponent throws on it).
  it('asks for a device named in a hash typed by hand, a bare % in it', async () => {
    const { page, problems } = await signIn(f.tokens.operator);
    await page.evaluate(() => (location.hash = 'device=d1%'));
    await page.waitForSelector('#console-error:not(:empty)');
    expect(await page.textContent('#console-error')).toBe('Not Found: no device d1%');
    expect(problems()).toEqual([refused(404, 'Not Found', '/v1/console/data')]);
    await page.close();
  });

  it('writes no token into the service’s logs', () => {
    expect(logs).toMatch(/\/v1\/console\/data/);
    for (const token of [f.tokens.operator, f.tokens.auditor, f.tokens.acmeAdmin]) {
      const secret = token.split('_').slice(2).join('_');
      expect(logs).not.toContain(secret);
    }
  });
});
