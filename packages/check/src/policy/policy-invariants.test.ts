/**
 * Your own invariants in a policy's blast radius: each predicate proven where it holds and violated where it does
 * not, the violation's timeline replaying (the real device machine, folded) to devices in the state it names; what
 * the search must not summarise for them; and the refusals, one line naming the path.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type FleetPolicy } from '@hotpatch/fleet';
import { foldTimeline } from '@hotpatch/replay';
import type { CustomInvariant } from '../custom-invariants.js';
import { blastRadius } from './blast.js';
import { witnessTimeline } from './blast-timeline.js';
import { policyInvariants } from './policy-invariants.js';

/** The custom invariant's verdict on a policy, and, when violated, the devices its timeline leaves in each device state. */
function verdict(spec: CustomInvariant, policy: FleetPolicy = DEFAULT_POLICY, ringSizes = [3, 5], plain = false) {
  const r = blastRadius({ policy, ringSizes, custom: policyInvariants([spec], policy), plain });
  expect(r.stats.complete).toBe(true);
  const inv = r.invariants.at(-1)!;
  expect(inv.custom).toBe(true);
  if (inv.violated === null) return { holds: true as const };
  const timeline = witnessTimeline(r.model, inv.violated);
  const folded = foldTimeline({ events: timeline as never }, { collectProblems: true });
  expect(folded.problems).toEqual([]);
  const states: Record<string, number> = {};
  for (const [stream, { state }] of folded.streams) {
    if (!stream.startsWith('device/')) continue;
    const key = `${stream.slice('device/'.length).replace(/-\d+$/, '')} ${(state as { value: string }).value}`;
    states[key] = (states[key] ?? 0) + 1;
  }
  return { holds: false as const, message: inv.message, steps: inv.violated.labels.length, states, last: timeline.at(-1)!.time };
}

describe('your own invariants in check --policy (simulate’s policy, 3 + 5 devices)', () => {
  it('atMost: all three pilot devices can be applied at once, not four; the violation replays to three applied', () => {
    expect(verdict({ kind: 'atMost', ring: 'pilot', state: 'applied', count: 3 })).toEqual({ holds: true });
    expect(verdict({ kind: 'atMost', ring: 'pilot', state: 'applied', count: 2 })).toMatchObject({ holds: false, message: '3 devices of pilot applied at once', steps: 4, states: { 'pilot applied': 3, 'broad current': 5 } });
  });

  it('atMost over every ring: the first failure past the budget halts the rollout, but applies timing out at one tick fail together, the whole broad ring at once (the real orchestrator writes them: timing-gaps.test.ts)', () => {
    expect(verdict({ kind: 'atMost', state: 'failed', count: 5 })).toEqual({ holds: true });
    expect(verdict({ kind: 'atMost', state: 'failed', count: 4 })).toMatchObject({ holds: false, message: '5 devices failed at once', states: { 'broad failed': 5 } });
    expect(verdict({ kind: 'atMost', state: 'failed', count: 0 })).toMatchObject({ holds: false, message: '1 devices failed at once', states: { 'pilot failed': 1 } });
  });

  it('never: a broad device can fail the release (the one that halts it), and its timeline replays to it', () => {
    expect(verdict({ kind: 'never', ring: 'broad', state: 'failed' })).toMatchObject({ holds: false, message: expect.stringMatching(/^1 device\(s\) of broad failed at /), states: { 'broad failed': 1 } });
    expect(verdict({ kind: 'never', ring: 'pilot', state: 'setAside' }, { ...DEFAULT_POLICY, silenceHours: 10_000 })).toEqual({ holds: true });
  });

  it('never after a time: every apply is reported by the first tick after it (the apply timeout), but a health report may wait for the silence', () => {
    expect(verdict({ kind: 'never', ring: 'pilot', state: 'applying', afterHours: 1 })).toMatchObject({ holds: false, message: '2 device(s) of pilot applying at 2026-02-10T18:00:00.000Z' });
    expect(verdict({ kind: 'never', ring: 'pilot', state: 'applying', afterHours: 1.01 })).toEqual({ holds: true });
    const late = verdict({ kind: 'never', ring: 'pilot', state: 'applied', afterHours: 24 });
    expect(late).toMatchObject({ holds: false, message: '3 device(s) of pilot applied at 2026-02-11T17:00:00.000Z', states: { 'pilot applied': 3 } });
  });

  it('leavesWithin: an applied device is set aside after 48 h of silence, so none stays applied longer; 47 h is violated', () => {
    expect(verdict({ kind: 'leavesWithin', state: 'applied', hours: 48 })).toEqual({ holds: true });
    const v = verdict({ kind: 'leavesWithin', state: 'applied', hours: 47 });
    expect(v).toMatchObject({ holds: false, message: '3 device(s) applied since 2026-02-10T18:00:00.000Z: longer than 47 h', states: { 'pilot applied': 3 } });
  });

  it('sees what a summarised ring (its gate passed) would hide: its devices after the gate, and the tick its gate passed in', () => {
    const ring = (name: string, maxFailureRate: number) => ({ name, deferralDays: 0, budget: { count: 2 }, gate: { minVerifiedShare: 0, maxFailureRate, minSoakHours: 0 }, deadlineDays: 2 });
    const lenient: FleetPolicy = { rings: [ring('r0', 0.5), ring('r1', 0.5)], applyTimeoutMinutes: 60, silenceHours: 1 };
    // Three failures at once: one in r0, whose gate passed, and two in r1.
    for (const plain of [false, true]) {
      expect(verdict({ kind: 'atMost', state: 'failed', count: 2 }, lenient, [2, 2], plain)).toMatchObject({ holds: false, message: '3 devices failed at once', states: { 'r0 failed': 1, 'r1 failed': 2 } });
    }
    // r0's agents fall silent and its gate passes in the same tick: set aside, then summarised.
    const silent: FleetPolicy = { ...lenient, rings: [ring('r0', 1), ring('r1', 1)] };
    for (const plain of [false, true]) expect(verdict({ kind: 'never', ring: 'r0', state: 'setAside' }, silent, [2, 2], plain)).toMatchObject({ holds: false, steps: 4 });
    // r0 ends within a day (its deadline), but a device it failed is still failed two days on, while r1 rolls out.
    const quick: FleetPolicy = { ...lenient, rings: [{ ...ring('r0', 0.5), deadlineDays: 1 }, ring('r1', 0.5)] };
    for (const plain of [false, true]) {
      expect(verdict({ kind: 'never', ring: 'r0', state: 'failed', afterHours: 48 }, quick, [2, 2], plain)).toMatchObject({ holds: false, states: { 'r0 failed': 1, 'r1 failed': 2 } });
    }
  });

  it('summarises a passed ring for an invariant its devices cannot bear on: none waits or is in flight once its gate passed', () => {
    const states = (spec: CustomInvariant) => blastRadius({ policy: DEFAULT_POLICY, ringSizes: [3, 5], custom: policyInvariants([spec], DEFAULT_POLICY) }).stats.states;
    const none = blastRadius({ policy: DEFAULT_POLICY, ringSizes: [3, 5] }).stats.states;
    for (const spec of [
      { kind: 'leavesWithin', state: 'applied', hours: 48 },
      { kind: 'atMost', state: 'applying', count: 3 },
      { kind: 'never', state: 'failed' },
      { kind: 'never', state: 'applied', afterHours: 24 },
    ] as CustomInvariant[]) {
      expect(states(spec)).toBe(none);
    }
    expect(states({ kind: 'atMost', state: 'failed', count: 3 })).toBeGreaterThan(none);
  });

  it('refuses a ring, a state or a name the policy model has not, in one line naming the path', () => {
    const refuse = (spec: object) => {
      try {
        policyInvariants([{ kind: 'never', state: 'failed', name: 'first' }, spec as CustomInvariant], DEFAULT_POLICY, 'inv.json');
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refuse({ kind: 'atMost', ring: 'canary', state: 'applied', count: 1 })).toBe('inv.json: invariants[1].ring: canary is not a ring of the policy (pilot, broad)');
    expect(refuse({ kind: 'never', state: 'rolledBack' })).toBe('inv.json: invariants[1].state: rolledBack is not a device state of the policy model (waiting, applying, applied, verified, failed, setAside)');
    expect(refuse({ kind: 'leavesWithin', state: 'verified', hours: 1 })).toBe('inv.json: invariants[1].state: a device never leaves verified once there: leavesWithin takes applying or applied');
    expect(refuse({ kind: 'never', state: 'applied', name: 'first' })).toBe('inv.json: invariants[1].name: first: the name of another invariant (give one a name of its own)');
    expect(refuse({ kind: 'never', state: 'applied', name: 'noRingBeforeGate' })).toBe('inv.json: invariants[1].name: noRingBeforeGate: the name of another invariant (give one a name of its own)');
    expect(refuse({ kind: 'never', state: 'applied', name: 'pilot' })).toBe('inv.json: invariants[1].name: pilot: the name of another invariant (give one a name of its own)');
    expect(refuse({ kind: 'never', state: 'applied' })).toBe('accepted');
  });
});
