// The fleet projection's snapshots with patches, on a simulated log: here, since the simulator depends on fleet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type RecordedEvent } from '@hotpatch/store';
import { DEFAULT_POLICY, emptyProjectionState, FleetProjection, patchProjection, projectionSteps, serializeProjection, type ProjectionState, type ProjectionStep } from '@hotpatch/fleet';
import { simulate } from './index.js';

// A real log: a small fleet through two months of rollouts, faults and all.
const store = createInMemoryEventStore();
await simulate({ devices: 12, months: 2, seed: 7, policy: DEFAULT_POLICY, store, arm: 'hotpatch' });
const log: RecordedEvent[] = await store.readAll();
const steps: ProjectionStep[] = [...projectionSteps(log)];
const text = (state: ProjectionState) => serializeProjection(state).join('\n');
// Equal as collections: an entry an inverse patch puts back into a Map or Set comes last (immer's patches carry no
// iteration order), so chunks and a device's maps are compared sorted.
const sorted = (items: unknown[]) => items.map((x) => JSON.stringify(x)).sort();
const asSets = (state: ProjectionState) =>
  serializeProjection(state)
    .join('\n')
    .split('\n')
    .map((line, i) => {
      if (i === 0) return line;
      const l = JSON.parse(line) as [string, { outcomes?: unknown[]; applyFailures?: unknown[] }, unknown[]?];
      if (l[0] === 'device') return JSON.stringify([l[0], { ...l[1], outcomes: sorted(l[1].outcomes!), applyFailures: sorted(l[1].applyFailures!) }]);
      return Array.isArray(l[2]) ? JSON.stringify([l[0], l[1], sorted(l[2])]) : line;
    })
    .join('\n');

describe('the projection as immutable snapshots', () => {
  it('has one step per event, and the last is the live projection of the whole log', () => {
    expect(log.length).toBeGreaterThan(200);
    expect(steps).toHaveLength(log.length);
    const live = new FleetProjection();
    for (const e of log) live.apply(e);
    expect(text(steps.at(-1)!.state)).toBe(text(live.state));
  });

  it('property: the snapshot at any event is the live projection of the log up to it, and later steps left it as it was', () => {
    fc.assert(
      fc.property(fc.nat(log.length - 1), (i) => {
        const live = new FleetProjection();
        for (const e of log.slice(0, i + 1)) live.apply(e);
        expect(text(steps[i]!.state)).toBe(text(live.state));
      }),
      { seed: 20261206, numRuns: 40 },
    );
  });

  it('property: a step’s inverse patches take its snapshot back to the one before, and its patches forward again', () => {
    fc.assert(
      fc.property(fc.nat(log.length - 1), (i) => {
        const before = i === 0 ? emptyProjectionState() : steps[i - 1]!.state;
        const back = patchProjection(steps[i]!.state, steps[i]!.inverse);
        expect(asSets(back)).toBe(asSets(before));
        expect(text(patchProjection(before, steps[i]!.patches))).toBe(text(steps[i]!.state));
      }),
      { seed: 20261207, numRuns: 60 },
    );
  });

  it('walks the whole log back to empty by inverse patches', () => {
    let state = steps.at(-1)!.state;
    for (let i = steps.length - 1; i >= 0; i--) state = patchProjection(state, steps[i]!.inverse);
    expect(asSets(state)).toBe(asSets(emptyProjectionState()));
  });

  it('steps per instant to the same states as per event, at each instant’s last event', () => {
    const instants = [...projectionSteps(log, { per: 'instant' })];
    expect(instants.length).toBeLessThan(log.length / 2);
    expect(instants.flatMap((s) => s.events)).toEqual(log);
    let at = -1;
    for (const step of instants) {
      at += step.events.length;
      expect(new Set(step.events.map((e) => e.time)).size).toBe(1);
      expect(text(step.state)).toBe(text(steps[at]!.state));
      expect(asSets(patchProjection(step.state, step.inverse))).toBe(asSets(at - step.events.length < 0 ? emptyProjectionState() : steps[at - step.events.length]!.state));
    }
  });

  it('steps from a live projection’s state without freezing or changing it, and later live changes leave the snapshot as it was', () => {
    const live = new FleetProjection();
    const half = Math.floor(log.length / 2);
    for (const e of log.slice(0, half)) live.apply(e);
    const snapshots = [...projectionSteps(log.slice(half, half + 50), { start: live.state })];
    const taken = text(snapshots.at(-1)!.state);
    for (const e of log.slice(half)) live.apply(e);
    expect(text(live.state)).toBe(text(steps.at(-1)!.state));
    expect(text(snapshots.at(-1)!.state)).toBe(taken);
    expect(taken).toBe(text(steps[half + 49]!.state));
  });

  it('shares what an event did not change, and refuses to be mutated', () => {
    const i = log.findIndex((e, k) => k > 0 && e.stream.startsWith('device/') && log[k - 1]!.stream.startsWith('device/') && e.stream !== log[k - 1]!.stream);
    const [a, b] = [steps[i - 1]!.state, steps[i]!.state];
    expect(b.rollouts).toBe(a.rollouts);
    const other = [...a.devices.keys()].find((d) => `device/${d}` !== log[i]!.stream)!;
    expect(b.devices.get(other)).toBe(a.devices.get(other));
    expect(() => b.devices.clear()).toThrow();
    expect(() => {
      (b.devices.get(other) as { ring: string }).ring = 'x';
    }).toThrow();
  });
});
