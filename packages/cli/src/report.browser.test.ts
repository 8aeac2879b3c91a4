/**
 * The demo's reports opened from file:// in a real browser (Debian's Chromium, driven by playwright-core): nothing
 * asked of the network, no console error, and what the page shows is what status, replay --at and history answer.
 * One browser for the file. Without Chromium the tests are skipped, and say so (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RolloutProgress } from '@hotpatch/core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const available = existsSync(CHROMIUM);
const SKIPPED = `SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`;
if (!available) console.warn(`report.browser.test.ts: ${SKIPPED}`);

const cli = async (...argv: string[]) => {
  const run = await runCaptured(argv);
  expect(run, run.err).toMatchObject({ code: 0 });
  return run.out;
};

describe.skipIf(!available)(`the demo's reports in Chromium${available ? '' : ` — ${SKIPPED}`}`, () => {
  let dir: string;
  let log: string;
  let browser: Browser;
  const html = (name: string) => join(dir, `${name}.html`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpatch-report-'));
    log = join(dir, 'events.jsonl');
    await cli('demo', '--out', dir);
    const store = `sqlite:${join(dir, 'hotpatch.db')}`;
    await cli('report', '--store', store, '--rollout', 'HP-2026-02', '--out', html('rollout'));
    await cli('report', log, '--device', 'dev-00003', '--out', html('device'));
    await cli('report', '--store', store, '--rollout', 'HP-2026-02', '--whatif', join(dir, 'policy-lenient-pilot.json'), '--out', html('whatif'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens a report; `problems()` lists every request other than the file itself and every console error. */
  async function open(name: string): Promise<{ page: Page; problems: () => string[] }> {
    const url = pathToFileURL(html(name)).href;
    const problems: string[] = [];
    const page = await browser.newPage();
    page.setDefaultTimeout(5_000);
    page.on('request', (r) => void (r.url() !== url && problems.push(`request ${r.url()}`)));
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console error: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    await page.goto(url);
    await page.waitForSelector('#cursor');
    expect((await stat(html(name))).size).toBeLessThan(5 * 1024 * 1024);
    return { page, problems: () => problems };
  }

  it('the halted rollout shows its ring, its reason and its failures against the budget as status --json gives them', async () => {
    const status = JSON.parse(await cli('status', log, '--json')) as { rollouts: RolloutProgress[] };
    const rollout = status.rollouts.find((r) => r.rollout === 'HP-2026-02')!;
    const { page, problems } = await open('rollout');
    expect(await page.textContent('[data-halt-ring]')).toBe(rollout.halt!.ring);
    expect(await page.getAttribute('[data-halt-reason]', 'data-halt-reason')).toBe(rollout.haltReason);
    // Said with its ring once: "Halted … in pilot: failures past …", not "in pilot: pilot: failures past …".
    expect(await page.textContent('.halt .halt-reason')).toBe(`Halted 2026-02-10 18:02 in ${rollout.haltReason}.`);
    // The axis's mark says the ring once ("halted in pilot: failures …", not "halted in pilot: pilot: failures …").
    expect(rollout.haltReason!.startsWith(`${rollout.halt!.ring}: `)).toBe(true);
    expect(await page.textContent('#rollout svg .halt-label')).toBe(`halted in ${rollout.haltReason}`);
    for (const ring of rollout.rings) {
      const cells = await page.$$eval(`#rollout tr[data-ring="${ring.name}"] td`, (tds) => tds.map((td) => td.textContent));
      expect(cells).toEqual([ring.name, String(ring.size ?? '-'), String(ring.budget ?? '-'), ring.started?.slice(0, 16).replace('T', ' ') ?? '-', ...[ring.inFlight, ring.succeeded, ring.failed, ring.setAside, ring.withdrawn].map(String), ring.gatePassed ? 'passed' : '-']);
    }
    // The failures chart: the pilot's line ends at status's failures, its budget line at the budget.
    const pilot = rollout.rings[0]!;
    expect(await page.textContent('svg.budget-chart path.failures[data-ring="pilot"] title')).toBe(`pilot: failures over time (now ${pilot.failed})`);
    expect(await page.textContent('svg.budget-chart line.budget[data-ring="pilot"] title')).toBe(`pilot: budget ${pilot.budget}`);
    // What the halt did: a row per device in flight at it; those without an outcome since are status's withdrawn.
    const outcomes = await page.$$eval('.halt tr[data-device] td:last-child', (tds) => tds.map((td) => td.textContent));
    expect(outcomes).toHaveLength(rollout.halt!.atHalt.inFlight);
    expect(outcomes.filter((o) => o === 'withdrawn')).toHaveLength(pilot.withdrawn);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('moving the cursor shows the states replay --at gives', async () => {
    const { page, problems } = await open('rollout');
    const shown = async () => Object.fromEntries(await page.$$eval('#cursor-devices tr[data-device]', (rows) => rows.map((r) => [r.getAttribute('data-device'), r.getAttribute('data-state')])));
    const replayed = async (at: string) => Object.fromEntries((JSON.parse(await cli('replay', log, '--at', at, '--json')) as Array<{ device: string; state: string }>).map((d) => [d.device, d.state]));
    // Typed: the README's moment, while the rollout was halting.
    await page.fill('#cursor-time', '2026-02-12T12:00:00Z');
    await page.press('#cursor-time', 'Enter');
    const at = await shown();
    expect(Object.keys(at)).toHaveLength(200);
    expect(at).toEqual(await replayed('2026-02-12T12:00:00Z'));
    // By keyboard: the slider to the start of the axis, then a few steps on.
    await page.focus('#cursor-slider');
    await page.keyboard.press('Home');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    const time = await page.inputValue('#cursor-time');
    expect(time).not.toBe('2026-02-12T12:00:00Z');
    expect(await shown()).toEqual(await replayed(time));
    expect(problems()).toEqual([]);
    await page.close();
  });

  // The page's times are UTC; Date.parse reads a time without a zone as the reader's local time.
  it('a time typed without its zone is UTC, as the page says, in any time zone', async () => {
    const context = await browser.newContext({ timezoneId: 'America/New_York' });
    const page = await context.newPage();
    await page.goto(pathToFileURL(html('rollout')).href);
    for (const typed of ['2026-02-12T12:00:00', '2026-02-12 12:00', '2026-02-12T13:00+01:00']) {
      await page.fill('#cursor-time', typed);
      await page.press('#cursor-time', 'Enter');
      expect(await page.inputValue('#cursor-time'), typed).toBe('2026-02-12T12:00:00Z');
    }
    await context.close();
  });

  // A pause's reason is any text (a tenant admin's, up to the service's 1 MiB body): laid out whole in a table cell, 100 KB
  // of it kept Chromium busy for seconds, 1 MB for minutes. A cell shows its start and says how much more there is.
  it('a pause with a very long reason: its cell shows the start of it and how much more there is', async () => {
    const reason = `freeze ${'A'.repeat(100_000)}`;
    const events = (await readFile(log, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { stream: string; version: number; type: string; time: string; position: number; hash?: string });
    const at = events.findIndex((e) => e.stream === 'rollout/HP-2026-02' && e.type === 'RingStarted');
    const started = events[at]!;
    const pause = (type: string, minutes: number, data: object) => ({ id: crypto.randomUUID(), stream: started.stream, version: 0, type, time: new Date(Date.parse(started.time) + minutes * 60_000).toISOString(), data });
    events.splice(at + 1, 0, pause('RolloutPaused', 1, { by: 'tenant', reason }) as never, pause('RolloutResumed', 2, { by: 'tenant' }) as never);
    const versions = new Map<string, number>();
    const rewritten = events.map((e, i) => {
      const { hash: _hash, ...rest } = e;
      return JSON.stringify({ ...rest, version: e.stream === started.stream ? (versions.set(e.stream, (versions.get(e.stream) ?? 0) + 1), versions.get(e.stream)) : e.version, position: i + 1 });
    });
    const paused = join(dir, 'paused.jsonl');
    await writeFile(paused, `${rewritten.join('\n')}\n`);
    await cli('report', paused, '--rollout', 'HP-2026-02', '--out', html('paused'));
    const { page, problems } = await open('paused');
    const why = await page.$$eval('#rollout table', (tables) => tables.find((t) => t.caption?.textContent?.startsWith('Pauses'))!.querySelector('tbody td:nth-child(3)')!.textContent!);
    expect(why).toBe(`${reason.slice(0, 400)}… (${reason.length - 400} more characters)`);
    expect(problems()).toEqual([]);
    await page.close();
  });

  // A mark outside the axis was drawn at its edge, as if the halt had happened when the window opens.
  it('a window opening after the halt draws no halt on its axis, and still says when it was', async () => {
    await cli('report', log, '--rollout', 'HP-2026-02', '--from', '2026-02-11T00:00:00Z', '--out', html('late'));
    const { page, problems } = await open('late');
    expect(await page.$$('#rollout svg line.halt, #rollout svg .halt-label, #rollout svg.budget-chart line.halt')).toEqual([]);
    expect(await page.textContent('.halt .halt-reason')).toMatch(/^Halted 2026-02-10 18:02 in pilot/);
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('the device view highlights the path history gives', async () => {
    const steps = JSON.parse(await cli('history', log, '--device', 'dev-00003', '--json')) as Array<{ position: number; before: { state: string } | null; after: { state: string } }>;
    const taken = new Map<string, number>();
    for (const s of steps) {
      const edge = `${s.before?.state ?? 'unenrolled'}→${s.after.state}`;
      taken.set(edge, (taken.get(edge) ?? 0) + 1);
    }
    const { page, problems } = await open('device');
    const highlighted = await page.$$eval('svg.lifecycle path.edge.on', (paths) => paths.map((p) => [p.getAttribute('data-edge'), Number(p.getAttribute('data-count'))] as const));
    expect(new Map(highlighted)).toEqual(taken);
    // Every edge the machine has is drawn; only those taken are highlighted.
    expect(await page.$$eval('svg.lifecycle path.edge', (paths) => paths.length)).toBeGreaterThan(highlighted.length);
    const rows = await page.$$eval('#device tr[data-position]', (trs) => trs.map((tr) => [Number(tr.getAttribute('data-position')), tr.children[3]!.textContent]));
    expect(rows).toEqual(steps.map((s) => [s.position, `${s.before?.state ?? '(none)'} → ${s.after.state}`]));
    expect(problems()).toEqual([]);
    await page.close();
  });

  it('a what-if is drawn beside the recorded run, on the same axes', async () => {
    const { page, problems } = await open('whatif');
    expect(await page.$$eval('section#rollout svg.lanes, section#whatif-rollout svg.lanes', (svgs) => svgs.map((s) => s.getAttribute('viewBox')?.split(' ')[2]))).toEqual(['1000', '1000']);
    expect(await page.textContent('#whatif h2')).toContain('policy-lenient-pilot.json');
    expect(problems()).toEqual([]);
    await page.close();
  });
});
