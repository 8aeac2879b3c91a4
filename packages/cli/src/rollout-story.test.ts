/**
 * The demo's halted rollout (200 devices, seed 1: the log the issue reproduced it on) told by status, in text and
 * JSON, and by history --rollout: one story, each number once, the same everywhere.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutProgress } from '@hotpatch/core';
import { runCaptured } from './main.js';
import { haltLines } from './rollout-text.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-story-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const cli = (...argv: string[]) => runCaptured(argv);
const log = join(dir, 'events.jsonl');

describe('the demo’s halted HP-2026-02', () => {
  beforeAll(async () => {
    expect(await cli('demo', '--out', dir)).toMatchObject({ code: 0, err: '' });
  });

  it('status and history --rollout tell one story, with the same numbers in text and in --json', async () => {
    const status = JSON.parse((await cli('status', log, '--json')).out) as { rollouts: RolloutProgress[] };
    const rollout = status.rollouts.find((r) => r.rollout === 'HP-2026-02')!;
    // The reproduction, each number once: the pilot's 20 devices, budget 2; the halt at its third failure
    // (3 > 2) with 1 succeeded and 16 still in flight; after it, one of those 16 failed (the fourth failure), and the
    // halt took the release back off the other 15; the broad ring, never reached, has 180 devices.
    expect(rollout).toMatchObject({
      state: 'halted',
      haltReason: 'pilot: failures past the disruption budget (3 > 2)',
      halt: { ring: 'pilot', atHalt: { succeeded: 1, failed: 3, setAside: 0, inFlight: 16 }, sinceHalt: { succeeded: 0, failed: 1, setAside: 0 } },
      rings: [
        { name: 'pilot', size: 20, budget: 2, inFlight: 0, succeeded: 1, failed: 4, setAside: 0, withdrawn: 15, gatePassed: false },
        { name: 'broad', size: 180, budget: null, started: null, inFlight: 0, succeeded: 0, failed: 0, setAside: 0, withdrawn: 0, gatePassed: false },
      ],
    });
    const events = (await readFile(log, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { stream: string; type: string; data: { ring?: string } });
    expect(events.filter((e) => e.type === 'DeviceEnrolled' && e.data.ring === 'broad')).toHaveLength(180);

    // history --rollout's last view is status's, but for the size of the ring never started (its rollout never
    // counted it): the same halt, the same counts.
    const steps = JSON.parse((await cli('history', log, '--rollout', 'HP-2026-02', '--json')).out) as Array<{ event: { type: string }; before: RolloutProgress | null; after: RolloutProgress }>;
    const { version: _v, time: _t, ...last } = steps.at(-1)!.after as RolloutProgress & { version: number; time: string };
    expect(last).toEqual({ ...rollout, rings: rollout.rings.map((g) => (g.started === null ? { ...g, size: null } : g)) });
    // Its steps: the failure that halted it moved the 16 still in flight to withdrawn, and the one failure after it
    // came from one of them.
    const halting = steps.findIndex((s) => s.after.state === 'halted');
    expect(steps[halting]!.after.rings[0]).toMatchObject({ inFlight: 0, failed: 3, withdrawn: 16 });
    expect(steps.slice(halting + 1).map((s) => s.event.type)).toEqual(['DeviceFailed']);

    // In text, status and history print the same table rows and the same account of the halt.
    const text = (await cli('status', log)).out;
    const history = (await cli('history', log, '--rollout', 'HP-2026-02')).out;
    const story = haltLines(rollout);
    expect(story).toEqual([
      'When it halted, pilot had 1 succeeded, 3 failed (budget 2), 0 set aside and 16 in flight.',
      'Since the halt, 1 of those 16 reported: 1 failure (failed 3 → 4); the halt took the release back off the other 15 devices (rolled back live where the patch allows it, a restart otherwise): withdrawn, no outcome awaited (one still reported is counted).',
    ]);
    for (const line of story) {
      expect(text).toContain(`\n    ${line}\n`);
      expect(history).toContain(`\n  ${line}`);
    }
    expect(text).toMatch(/\n {4}pilot +20 +2 +2026-02-10 17:00 +0 +1 +4 +0 +15 +-\n {4}broad +180 +- +- +0 +0 +0 +0 +0 +-\n/);
    expect(history).toMatch(/\n {2}pilot +20 +2 +2026-02-10 17:00 +0 +1 +4 +0 +15 +-\n {2}broad +- +- +- +0 +0 +0 +0 +0 +-\n/);
    expect(history).toMatch(/DeviceFailed +rolling → halted +pilot: in flight 17→0, failed 2→3, withdrawn 0→16 \(budget 2\); halted: pilot: failures past the disruption budget \(3 > 2\)/);
    expect(history).toMatch(/DeviceFailed +halted → halted +pilot: failed 3→4, withdrawn 16→15 \(budget 2\)/);
    expect(text).not.toMatch(/not in flight any more|in flight 15/);
  });
});
