/**
 * A rollout's figures, as status (the fleet projection) and history --rollout (replay) give them, against counts
 * taken straight from the rollout's events: per ring, devices instructed, outcomes, in flight and withdrawn; for a
 * halted rollout, what the halt saw and what came after it. Checked after every event of every rollout stream of
 * simulated fleets (halts, timeouts, silent agents), and at the end against the fleet report.
 * Here rather than in fleet (whose figures it checks), since fleet cannot depend on the simulator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveBudget, type HotpatchEvent, type RingProgressView, type RolloutEventData, type RolloutProgress } from '@hotpatch/core';
import { rolloutHistory } from '@hotpatch/replay';
import { createInMemoryEventStore, type RecordedEvent } from '@hotpatch/store';
import { DEFAULT_POLICY, FleetProjection, fleetStatus } from '@hotpatch/fleet';
import { DEFAULT_FAULTS, simulate } from './index.js';

type Counted = Omit<RingProgressView, 'size' | 'budget' | 'started' | 'gatePassed'>;

/** The figures a rollout's events say, counted from the events alone (none of the rollout machine's code). */
function countFromEvents(events: readonly HotpatchEvent[]): { rings: Array<{ name: string } & Counted>; halt: RolloutProgress['halt'] } {
  const plan = events[0]!.data as RolloutEventData['RolloutPlanned'];
  const ring = (name: string) => ({ instructed: new Set<string>(), settled: new Set<string>(), succeeded: 0, failed: 0, setAside: 0 });
  const rings = new Map(plan.rings.map((p) => [p.name, ring(p.name)]));
  const budgets = new Map<string, number>();
  let current: string | null = null;
  let halt: { ring: string | null; index: number } | null = null;
  let haltReason = '';
  const snapshot = (name: string) => {
    const r = rings.get(name)!;
    return { succeeded: r.succeeded, failed: r.failed, setAside: r.setAside, inFlight: [...r.instructed].filter((d) => !r.settled.has(d)).length };
  };
  let atHalt: ReturnType<typeof snapshot> | null = null;
  events.forEach((e, index) => {
    const d = e.data as { ring: string; device: string; devices: number; reason: string; instructed: boolean };
    const r = rings.get(d.ring);
    switch (e.type) {
      case 'RingStarted':
        current = d.ring;
        budgets.set(d.ring, resolveBudget(plan.rings.find((p) => p.name === d.ring)!, d.devices));
        break;
      case 'DeviceInstructed':
        r!.instructed.add(d.device);
        break;
      case 'DeviceSucceeded':
        r!.succeeded++;
        r!.settled.add(d.device);
        break;
      case 'DeviceSetAside':
        r!.setAside++;
        if (d.instructed) r!.settled.add(d.device);
        break;
      case 'DeviceFailed':
        r!.failed++;
        r!.settled.add(d.device);
        // The first failure past its ring's budget halts the rollout.
        if (halt === null && d.ring === current && r!.failed > budgets.get(d.ring)!) {
          halt = { ring: d.ring, index };
          haltReason = `${d.ring}: failures past the disruption budget (${r!.failed} > ${budgets.get(d.ring)})`;
        }
        break;
      case 'RolloutHalted':
        if (halt === null) {
          halt = { ring: current, index };
          haltReason = d.reason;
        }
        break;
    }
    if (halt !== null && halt.index === index && halt.ring !== null) atHalt = snapshot(halt.ring);
  });
  const h = halt as { ring: string | null; index: number } | null;
  const at = atHalt as ReturnType<typeof snapshot> | null;
  return {
    rings: [...rings].map(([name, r]) => {
      const pending = [...r.instructed].filter((d) => !r.settled.has(d)).length;
      const withdrawn = h?.ring === name ? pending : 0;
      return { name, inFlight: pending - withdrawn, succeeded: r.succeeded, failed: r.failed, setAside: r.setAside, withdrawn };
    }),
    halt:
      h === null
        ? null
        : h.ring === null || at === null
          ? { ring: null, reason: haltReason, atHalt: { succeeded: 0, failed: 0, setAside: 0, inFlight: 0 }, sinceHalt: { succeeded: 0, failed: 0, setAside: 0 } }
          : {
              ring: h.ring,
              reason: haltReason,
              atHalt: at,
              sinceHalt: { succeeded: rings.get(h.ring)!.succeeded - at.succeeded, failed: rings.get(h.ring)!.failed - at.failed, setAside: rings.get(h.ring)!.setAside - at.setAside },
            },
  };
}

const counted = (v: RolloutProgress) => ({
  rings: v.rings.map(({ name, inFlight, succeeded, failed, setAside, withdrawn }) => ({ name, inFlight, succeeded, failed, setAside, withdrawn })),
  halt: v.halt,
});

describe('a rollout’s figures', () => {
  it('property: status and history --rollout give the counts the rollout’s events give, after every event, halted or not', async () => {
    let halted = 0;
    let after = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 8, max: 20 }), fc.constantFrom(0.2, 0.4, 0.6), async (seed, devices, firstRingShare) => {
        const store = createInMemoryEventStore();
        await simulate({ devices, months: 3, seed, policy: DEFAULT_POLICY, store, arm: 'hotpatch', firstRingShare, faults: { ...DEFAULT_FAULTS, silentAgents: 0.1, silentDays: [1, 4] } });
        const log: RecordedEvent[] = await store.readAll();
        const projection = new FleetProjection();
        for (const e of log) projection.apply(e);
        const status = fleetStatus(projection, projection.latestTime);
        for (const progress of status.rollouts) {
          const events = log.filter((e) => e.stream === `rollout/${progress.rollout}`);
          // history --rollout: after every event, the view is what the events so far say.
          const steps = rolloutHistory({ events: log }, progress.rollout);
          expect(steps.map((s) => s.event.id)).toEqual(events.map((e) => e.id));
          steps.forEach((step, i) => expect(counted(step.after), `${progress.rollout} after ${step.event.type} #${i + 1}`).toEqual(countFromEvents(events.slice(0, i + 1))));
          // status: the same, and the same as history's last view but for the size of a ring not started (the
          // ring's devices now, from the fleet).
          const last = steps.at(-1)!.after;
          expect(counted(progress)).toEqual(counted(last));
          progress.rings.forEach((g, i) => {
            expect(g.size).toBe(g.started !== null ? last.rings[i]!.size : projection.liveRingMembers(g.name).length);
            expect({ ...g, size: null }).toEqual({ ...last.rings[i]!, size: null });
          });
          if (progress.halt !== null && progress.halt.ring !== null) {
            halted++;
            const g = progress.rings.find((r) => r.name === progress.halt!.ring)!;
            after += progress.halt.sinceHalt.failed + progress.halt.sinceHalt.succeeded + progress.halt.sinceHalt.setAside;
            // Every device in flight at the halt has reported since or is withdrawn; nothing else is in flight there.
            const since = progress.halt.sinceHalt;
            expect(since.failed + since.succeeded + since.setAside + g.withdrawn).toBe(progress.halt.atHalt.inFlight);
            expect(g.inFlight).toBe(0);
          }
        }
      }),
      { seed: 20261201, numRuns: 10 },
    );
    // The fleets did what the property is about: rollouts halted, and outcomes came after a halt.
    expect(halted).toBeGreaterThan(3);
    expect(after).toBeGreaterThan(0);
  });
});
