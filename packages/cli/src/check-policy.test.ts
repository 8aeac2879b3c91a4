import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '@hotpatch/fleet';
import { TIGHT_DEADLINE_POLICY } from '../../check/src/testing/hostile-policies.js';
import { DEMO_POLICY } from './commands/demo.js';
import { runCaptured } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-check-policy-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const cli = (...argv: string[]) => runCaptured(argv);
const scenarios = resolve(fileURLToPath(import.meta.url), '../../../check/scenarios');

interface Answer {
  rings: Array<{ name: string; worst: number; timeline: string | null }>;
  total: { worst: number; timeline: string };
  longestAppliedBeforeHalt: { hours: number } | null;
  completesWithUnhealthy: number;
  ringBeforeGate: boolean;
  stats: { complete: boolean };
}

/** The devices a timeline leaves running the release without having verified it: applied, failed or applying it. */
async function unhealthyAfterReplay(timeline: string, ring = ''): Promise<number> {
  const replay = await cli('replay', timeline, '--json');
  expect(replay.code).toBe(0);
  const fleet = JSON.parse(replay.out) as Array<{ device: string; state: string }>;
  return fleet.filter((d) => d.device.startsWith(ring) && (d.state === 'applied' || d.state === 'failed' || d.state === 'applying')).length;
}

describe('hotpatch check --policy', () => {
  it('ships the demo’s and simulate’s policies as files', async () => {
    expect(JSON.parse(await readFile(join(scenarios, 'policy-demo.json'), 'utf8'))).toEqual(DEMO_POLICY);
    expect(JSON.parse(await readFile(join(scenarios, 'policy-default.json'), 'utf8'))).toEqual(DEFAULT_POLICY);
  });

  for (const [name, file] of [['the demo’s policy', 'policy-demo.json'], ['the policy simulate uses', 'policy-default.json']] as const) {
    it(`answers the blast radius of ${name}, and its worst run replays to it`, async () => {
      const out = join(dir, file);
      const r = await cli('check', '--policy', join(scenarios, file), '--ring-sizes', 'pilot=20,broad=180', '--out', out, '--json');
      expect(r.code).toBe(0);
      const a = JSON.parse(r.out) as Answer;
      expect(a.stats.complete).toBe(true);
      // Silent agents are set aside, not counted as failures: a pilot gate passes on one verified device.
      expect(a.rings.map((x) => x.worst)).toEqual([20, 180]);
      expect(a.total.worst).toBe(199);
      expect(a.ringBeforeGate).toBe(false);
      // Its rings' deadlines come after every device has settled and soaked: the search's timing misses no run.
      expect(a).toMatchObject({ exact: true, deadlineRisks: [] });
      expect(a.longestAppliedBeforeHalt?.hours).toBe(14 * 24 - 1);
      // Counted from the tick its first apply was reported at: an apply reported sooner in that interval, a tick more at most (timing-fuzz.test.ts).
      expect(a.longestAppliedBeforeHalt).toMatchObject({ upToHours: 14 * 24 });
      // The real replay and history read the timeline, and reach the worst case.
      expect(await unhealthyAfterReplay(a.total.timeline)).toBe(199);
      const history = await cli('history', a.total.timeline, '--rollout', 'HP-MODEL');
      expect(history.code).toBe(0);
      expect(history.out).toMatch(/pilot +20 +2 .* 1 +0 +19 +0 +passed/);
      expect(history.out).toMatch(/broad +180 .* 0 +0 +180 +0/);
      expect((await cli('verify', a.total.timeline)).code).toBe(0);
      for (const ring of a.rings) expect(await unhealthyAfterReplay(ring.timeline!, `${ring.name}-`)).toBe(ring.worst);
    });
  }

  // A deadline that can come before a ring settles: a device verified in the interval it applied could let the gate pass
  // first, which the default search does not explore: the figures are lower bounds, said so; --every-timing explores it.
  it('says a ring whose deadline can come before it settles is not exact, and exits 1 (its figures are lower bounds); --every-timing gives the run it misses', async () => {
    // The model's tight-deadline policy, its second ring given a day (so that only r0 is named).
    const [r0, r1] = TIGHT_DEADLINE_POLICY.rings;
    const policy = { ...TIGHT_DEADLINE_POLICY, rings: [r0, { ...r1!, deadlineDays: 1 }] };
    const file = join(dir, 'tight.json');
    await writeFile(file, JSON.stringify(policy));
    const text = await cli('check', '--policy', file, '--ring-sizes', 'r0=3,r1=1', '--out', join(dir, 'tight'));
    expect(text.code).toBe(1);
    expect(text.out).toContain('NOT EXACT for ring r0: its deadline (2.4 h after it starts) can come before every device has settled and the ring soaked (up to 5.52 h)');
    expect(text.out).not.toContain('NOT EXACT for ring r1');
    expect(text.err).toBe('hotpatch check: not exact for ring r0 (its deadline can come before it settles): the worst cases above are lower bounds; --every-timing gives them exactly');
    const asJson = await cli('check', '--policy', file, '--ring-sizes', 'r0=3,r1=1', '--out', join(dir, 'tight'), '--json');
    expect(JSON.parse(asJson.out)).toMatchObject({ exact: false, deadlineRisks: [{ ring: 'r0', deadlineHours: 2.4 }], rings: [{ worst: 3 }, { worst: 0 }] });
    // Every timing: r0's last device verifies in the interval it applied, r0 passes its gate, r1 receives the release.
    const every = await cli('check', '--policy', file, '--ring-sizes', 'r0=3,r1=1', '--out', join(dir, 'every'), '--every-timing', '--json');
    expect(every.code).toBe(0);
    const e = JSON.parse(every.out) as Answer;
    expect(e).toMatchObject({ exact: true, deadlineRisks: [], rings: [{ worst: 3 }, { worst: 1 }], stats: { everyTiming: true, applyFailures: true } });
    expect(await unhealthyAfterReplay(e.rings[1]!.timeline!, 'r1-')).toBe(1);
    const everyText = await cli('check', '--policy', file, '--ring-sizes', 'r0=3,r1=1', '--out', join(dir, 'every'), '--every-timing');
    expect(everyText.code).toBe(0);
    expect(everyText.out).not.toContain('NOT EXACT');
    expect(everyText.out).toContain('Every timing: applies free to fail, health reported as soon as the interval of the apply.');
    const both = await cli('check', '--policy', file, '--ring-sizes', 'r0=3,r1=1', '--out', join(dir, 'both'), '--every-timing', '--apply-failures');
    expect(both).toMatchObject({ code: 2, err: expect.stringMatching(/^hotpatch check: --every-timing already lets applies fail: give one of --every-timing and --apply-failures\n/) });
    expect((await cli('check', '--every-timing')).err).toMatch(/^hotpatch check: --every-timing applies to --policy only\n/);
    // Stopped by --max-states, every timing's figures are lower bounds too: not exact.
    const stopped = await cli('check', '--policy', file, '--ring-sizes', 'r0=3,r1=1', '--out', join(dir, 'every'), '--every-timing', '--max-states', '5', '--json');
    expect(stopped).toMatchObject({ code: 1, err: 'hotpatch check: the search stopped at 5 states (--max-states): the worst cases above are lower bounds' });
    expect(JSON.parse(stopped.out)).toMatchObject({ exact: false, deadlineRisks: [], stats: { complete: false, everyTiming: true } });
  });

  // An apply timeout of two ticks: a real agent may report its apply at the first, which the default search has at the
  // second; the ring's time before a halt counts from its first apply (timing-gaps.test.ts).
  it('says the longest run before a halt is a lower bound where an apply timeout spans ticks, and exits 1; --every-timing gives it', async () => {
    const file = join(dir, 'two-tick-timeout.json');
    const gate = { minVerifiedShare: 0, maxFailureRate: 0, minSoakHours: 0 };
    await writeFile(file, JSON.stringify({ rings: [{ name: 'r0', deferralDays: 0, budget: { count: 0 }, gate, deadlineDays: 3 }], applyTimeoutMinutes: 120, silenceHours: 48 }));
    const text = await cli('check', '--policy', file, '--ring-sizes', 'r0=2', '--out', join(dir, 'two-tick'));
    expect(text.code).toBe(1);
    expect(text.out).toContain('NOT EXACT for the longest run before a halt: an apply may be reported at any tick before its timeout (120 min, more than a tick)');
    expect(text.err).toBe('hotpatch check: not exact for the longest run before a halt (an apply timeout of more than a tick): a lower bound; --every-timing gives it exactly');
    const asJson = JSON.parse((await cli('check', '--policy', file, '--ring-sizes', 'r0=2', '--out', join(dir, 'two-tick'), '--json')).out);
    expect(asJson).toMatchObject({ exact: false, deadlineRisks: [], longestAppliedBeforeHalt: { hours: 48, lowerBound: true } });
    const every = await cli('check', '--policy', file, '--ring-sizes', 'r0=2', '--out', join(dir, 'two-tick'), '--every-timing', '--json');
    expect(every.code).toBe(0);
    expect(JSON.parse(every.out)).toMatchObject({ exact: true, longestAppliedBeforeHalt: { hours: 49, lowerBound: false } });
    // A tick as long as the timeout: exact.
    expect((await cli('check', '--policy', file, '--ring-sizes', 'r0=2', '--out', join(dir, 'two-tick'), '--tick-minutes', '120')).code).toBe(0);
  });

  it("counts a gate's maxSetAsideShare: a ring whose agents may all go silent no longer passes on the few that reported", async () => {
    const strict = { ...DEFAULT_POLICY, rings: DEFAULT_POLICY.rings.map((r) => ({ ...r, gate: { ...r.gate, maxSetAsideShare: 0.2 } })) };
    const file = join(dir, 'strict.json');
    await writeFile(file, JSON.stringify(strict));
    const [loose, held] = await Promise.all([join(scenarios, 'policy-default.json'), file].map((p, i) => cli('check', '--policy', p, '--ring-sizes', 'pilot=20,broad=180', '--out', join(dir, `strict${i}`), '--json')));
    expect([loose!.code, held!.code]).toEqual([0, 0]);
    expect((JSON.parse(loose!.out) as Answer).total.worst).toBe(199);
    expect((JSON.parse(held!.out) as Answer).total.worst).toBe(185);
  });

  it('says why applies are free to fail when an invariant of yours on failed devices turns them on', async () => {
    const mine = join(dir, 'failed-invariant.json');
    await writeFile(mine, JSON.stringify({ invariants: [{ kind: 'atMost', state: 'failed', count: 1 }] }));
    const r = await cli('check', '--policy', join(scenarios, 'policy-default.json'), '--ring-sizes', 'pilot=3,broad=5', '--invariants', mine, '--out', join(dir, 'failed-invariant'));
    expect(r.out).toContain('Applies free to fail, for an invariant of yours on failed devices (applies timing out at one tick fail together).');
    const asked = await cli('check', '--policy', join(scenarios, 'policy-default.json'), '--ring-sizes', 'pilot=3,broad=5', '--apply-failures', '--out', join(dir, 'asked'));
    expect(asked.out).toContain('(silent). Applies free to fail.\n');
  });

  it('reads ring sizes from a file, and refuses sizes that do not fit the policy, in one line', async () => {
    const fleet = join(dir, 'rings.json');
    await writeFile(fleet, JSON.stringify({ pilot: 3, broad: 5 }));
    const ok = await cli('check', '--policy', join(scenarios, 'policy-default.json'), '--fleet', fleet, '--out', dir);
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/total +7 of 8/) });
    await writeFile(fleet, JSON.stringify({ pilot: 3, canary: 5 }));
    const bad = await cli('check', '--policy', join(scenarios, 'policy-default.json'), '--fleet', fleet, '--out', dir);
    expect(bad).toMatchObject({ code: 1, err: `hotpatch check: ${fleet}: canary is not a ring of the policy (pilot, broad)` });
    expect((await cli('check', '--policy', join(scenarios, 'policy-default.json'), '--out', dir)).code).toBe(2);
    expect((await cli('check', '--policy', join(scenarios, 'policy-default.json'), '--ring-sizes', 'pilot=x', '--out', dir)).code).toBe(2);
  });

  it('refuses ring sizes given twice or with a second "=", a ring named like an object key it does not have, and a tick past a year, in one line, writing nothing', async () => {
    const out = join(dir, 'refused');
    const policy = join(scenarios, 'policy-default.json');
    const refused = async (argv: string[], code: number, err: string) => {
      const r = await cli('check', '--policy', policy, ...argv, '--out', out);
      expect(r).toMatchObject({ code, out: '' });
      expect(r.err.split('\n')[0]).toBe(err);
      await expect(readFile(join(out, 'blast-total.jsonl'))).rejects.toThrow();
    };
    await refused(['--ring-sizes', 'pilot=2,pilot=5,broad=3'], 2, 'hotpatch check: --ring-sizes: pilot is given twice');
    await refused(['--ring-sizes', 'pilot=2=7,broad=3'], 2, 'hotpatch check: --ring-sizes: expected ring=count, got "pilot=2=7"');
    await refused(['--ring-sizes', 'pilot=2,broad=3,__proto__=4'], 1, 'hotpatch check: --ring-sizes: __proto__ is not a ring of the policy (pilot, broad)');
    await refused(['--ring-sizes', 'pilot=2,broad=3', '--tick-minutes', '99999999999999'], 2, 'hotpatch check: --tick-minutes: expected at most 525,600 (a year), got 99999999999999');
  });

  it('stops at once on SIGTERM while it searches: a listener of ours would run only after the search (built CLI)', async () => {
    const bin = resolve(fileURLToPath(import.meta.url), '../../dist/bin.js');
    // A search of minutes (2 × 1,000,000 devices, no state limit to speak of): stopped only if the signal stops it.
    const argv = ['check', '--policy', join(scenarios, 'policy-default.json'), '--ring-sizes', 'pilot=1000000,broad=1000000', '--max-states', '100000000', '--out', join(dir, 'stopped')];
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      // Time enough to be searching on a quiet machine; on a busy one the signal may come while the command starts,
      // where our listener stops it (exit 143) — at once, not after the search (stoppableAtOnce's turn of the loop).
      setTimeout(() => child.kill('SIGTERM'), 1500);
      const [code, signal] = await new Promise<[number | null, string | null]>((done) => child.on('exit', (c, s) => done([c, s])));
      // Before: the listener ran once the search had ended (here: never within the test's time).
      expect([{ code: null, signal: 'SIGTERM', err: '' }, { code: 143, signal: null, err: 'hotpatch: stopped by SIGTERM: files it was writing left as they were, nothing uncommitted kept\n' }]).toContainEqual({ code, signal, err });
      await expect(readFile(join(dir, 'stopped', 'blast-total.jsonl'))).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
