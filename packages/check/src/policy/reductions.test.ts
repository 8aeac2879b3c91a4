/**
 * The reduced search (the interval before a soak's end taking only the runs in which every device reports, and the
 * states taken in order of progress) against the search without them: the same answers, the same verdicts for your
 * own invariants, on random small policies and rings; and every worst run it finds replays to its figure.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICY } from '@hotpatch/fleet';
import { blastRadius, receivedBad, replayPath, type BlastResult, type Witness } from './blast.js';
import { policyInvariants, policyStateOf, type PolicyInvariant } from './policy-invariants.js';
import { inFlightTick } from './population.js';
import type { CustomInvariant } from '../custom-invariants.js';
import type { PolicyModel } from './policy-model.js';
import { answers, customsFor, policies, sizesFor, smallPolicy } from '../testing/policies.js';

/** Policies whose soaks end before their agents' silence (where the reduction applies), often at their deadline. */
const soaking = policies({ soakHours: [2, 24], deadlineDays: [1, 2], silenceHours: [3, 48] });

/** The state a witness's run ends in. */
const endOf = (model: PolicyModel, w: Witness) => replayPath(model, w.labels).at(-1)?.state ?? model.initial();

/** Each witness's run, replayed step by step through the model, reaches the figure it stands for. */
function expectWitnessesReplay(r: BlastResult): void {
  const { model } = r;
  r.rings.forEach((w, i) => w.labels.length && expect(receivedBad(endOf(model, w), i)).toBe(w.value));
  const sum = (w: Witness) => endOf(model, w).rings.reduce((n, _, i) => n + receivedBad(endOf(model, w), i), 0);
  if (r.total.labels.length) expect(sum(r.total)).toBe(r.total.value);
  if (r.completesWithBad) expect(sum(r.completesWithBad)).toBe(r.completesWithBad.value);
  if (r.longestApplied) {
    const s = endOf(model, r.longestApplied);
    expect(s.haltedAt! - model.time(s.firstApplied[s.rollout.context.atHalt!.ring]!)).toBe(r.longestApplied.value);
  }
}

/**
 * An invariant that is never violated but keeps, per ring and device state, what your own invariants measure: the
 * most devices in it at once (atMost), the last instant a device is in it (never … afterHours), the longest a device
 * stays in it (leavesWithin). `spec` decides, as a real one's would, whether passed rings are summarised.
 */
function probe(spec: CustomInvariant): PolicyInvariant & { readonly seen: Map<string, number> } {
  const seen = new Map<string, number>();
  const most = (key: string, n: number) => seen.set(key, Math.max(seen.get(key) ?? -Infinity, n));
  return {
    name: 'probe',
    description: 'what custom invariants measure',
    custom: true,
    spec,
    seen,
    check(s, held, model) {
      s.rings.forEach((pop, r) => {
        for (const [local, n] of pop.entries()) {
          const state = policyStateOf(local);
          if (state === undefined) continue;
          most(`${r} ${state} at once`, n);
          most(`${r} ${state} until`, held.until);
          if (inFlightTick(local) !== undefined) most(`${r} ${state} for`, held.until - model.time(inFlightTick(local)!));
        }
      });
      return undefined;
    },
  };
}

const verdicts = (r: BlastResult) => r.invariants.filter((i) => i.custom).map((i) => [i.name, i.violated !== null]);

describe('the reduced blast-radius search', () => {
  it('gives the answers the search without reductions gives, and its worst runs replay to them (small random policies and rings)', () => {
    let smaller = 0;
    fc.assert(
      fc.property(fc.oneof(smallPolicy, soaking).chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy, 4), fc.boolean())), ([policy, ringSizes, applyFailures]) => {
        const reduced = blastRadius({ policy, ringSizes, applyFailures });
        const full = blastRadius({ policy, ringSizes, applyFailures, reduce: false });
        expect(reduced.stats.complete && full.stats.complete).toBe(true);
        expect(answers(reduced)).toEqual(answers(full));
        expectWitnessesReplay(reduced);
        if (reduced.stats.states < full.stats.states) smaller++;
      }),
      { seed: 2412, numRuns: 120 },
    );
    // The property is not vacuous: the reduction applies to many of these policies.
    expect(smaller).toBeGreaterThan(5);
  });

  it('gives your own invariants the verdicts the search without reductions gives (fast-check)', () => {
    const world = fc.oneof(smallPolicy, soaking).chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy, 4), customsFor(policy)));
    fc.assert(
      fc.property(world, ([policy, ringSizes, specs]) => {
        const custom = policyInvariants(specs, policy);
        const reduced = blastRadius({ policy, ringSizes, custom });
        const full = blastRadius({ policy, ringSizes, custom, reduce: false });
        expect(reduced.stats.complete && full.stats.complete).toBe(true);
        expect(verdicts(reduced)).toEqual(verdicts(full));
        expect(answers(reduced)).toEqual(answers(full));
      }),
      { seed: 2413, numRuns: 200 },
    );
  });

  it('sees every ring and device state as the search without reductions does: as many devices at once, as late, as long (fast-check)', () => {
    const world = fc.oneof(smallPolicy, soaking).chain((policy) => fc.tuple(fc.constant(policy), sizesFor(policy, 4), fc.boolean(), fc.boolean()));
    fc.assert(
      fc.property(world, ([policy, ringSizes, applyFailures, wholeRings]) => {
        // Over every ring (passed rings not summarised), or over one ring (they are).
        const spec: CustomInvariant = wholeRings ? { kind: 'leavesWithin', state: 'applied', hours: 1 } : { kind: 'atMost', ring: policy.rings[0]!.name, state: 'failed', count: 1 };
        const [reduced, full] = [true, false].map((reduce) => {
          const p = probe(spec);
          blastRadius({ policy, ringSizes, applyFailures, custom: [p], reduce });
          return Object.fromEntries(p.seen);
        });
        expect(reduced).toEqual(full);
      }),
      { seed: 2414, numRuns: 200 },
    );
  });

  it('is smaller on simulate’s policy, with the same answers', () => {
    const reduced = blastRadius({ policy: DEFAULT_POLICY, ringSizes: [20, 60] });
    const full = blastRadius({ policy: DEFAULT_POLICY, ringSizes: [20, 60], reduce: false });
    expect(answers(reduced)).toEqual(answers(full));
    expect(reduced.stats.states).toBeLessThan(full.stats.states * 0.7);
    expectWitnessesReplay(reduced);
  });
});
