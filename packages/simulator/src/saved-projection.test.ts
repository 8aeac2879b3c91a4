// The fleet projection's saved form, on a simulated log: here, since the simulator depends on fleet, not fleet on it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type RecordedEvent } from '@hotpatch/store';
import { DEFAULT_POLICY, FleetProjection, type Orchestrator } from '@hotpatch/fleet';
import { simulate } from './index.js';

// A real log: a small fleet through three months of rollouts, faults and all, and a tenant's freeze of the broad ring.
const store = createInMemoryEventStore();
const freeze = [
  { at: Date.parse('2026-02-12T09:00:00.000Z'), run: (o: Orchestrator) => o.pauseRing('broad', 'tenant', 'change freeze') },
  { at: Date.parse('2026-02-20T09:00:00.000Z'), run: (o: Orchestrator) => o.resumeRing('broad', 'tenant') },
];
await simulate({ devices: 30, months: 3, seed: 4, policy: DEFAULT_POLICY, store, arm: 'hotpatch', interventions: freeze });
const log: RecordedEvent[] = await store.readAll();

const fold = (events: readonly RecordedEvent[], into = new FleetProjection()) => {
  for (const e of events) into.apply(e);
  return into;
};

describe('a saved fleet projection', () => {
  it('is folded from a log with a ring’s pauses, and keeps them', () => {
    expect(log.filter((e) => e.stream === 'ring/broad').map((e) => e.type)).toEqual(['RingPaused', 'RingResumed']);
    const p = fold(log.filter((e) => e.time < '2026-02-15'));
    expect(p.isRingPaused('broad')).toBe(true);
    const restored = new FleetProjection();
    expect(restored.restore(p.serialize())).toBe(true);
    expect(restored.isRingPaused('broad')).toBe(true);
    expect(fold(log).ringPausedMs('broad', '2026-01-01', '2026-04-01')).toBe(8 * 24 * 3600_000);
  });

  it('property: restored at any point of the log and carried on, in parts of any size, it is the projection of the whole log', () => {
    const whole = fold(log).serialize();
    fc.assert(
      fc.property(fc.nat(log.length), fc.integer({ min: 1, max: 20_000 }), (cut, partChars) => {
        const restored = new FleetProjection();
        const saved = fold(log.slice(0, cut)).serialize(partChars);
        // Parts close at the first line that reaches the size: none is much larger, and lines are never split.
        for (const part of saved.slice(0, -1)) expect(part.length).toBeGreaterThanOrEqual(partChars - 1);
        expect(restored.restore(saved)).toBe(true);
        expect(restored.position).toBe(cut === 0 ? 0 : log[cut - 1]!.position);
        expect(fold(log.slice(cut), restored).serialize()).toEqual(whole);
      }),
      { seed: 20261126, numRuns: 40 },
    );
  });

  it('chunks device-sized collections, so that no line grows with the fleet', () => {
    const p = new FleetProjection();
    // A ring of 25,000 members: three chunk lines.
    for (let i = 0; i < 25_000; i++) p.apply({ ...log[0]!, stream: `device/big-${i}`, position: i + 1, id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` } as RecordedEvent);
    const lines = p.serialize().join('\n').split('\n');
    expect(lines.filter((l) => l.startsWith('["ring",'))).toHaveLength(3);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1_000_000);
    const again = new FleetProjection();
    expect(again.restore(p.serialize(100_000))).toBe(true);
    expect(again.serialize()).toEqual(p.serialize());
    expect(again.ringMembers.get(p.devices.get('big-0')!.ring)!.size).toBe(25_000);
  });

  it('is not restored from anything but this build’s own form, and the projection is left as it was', () => {
    const p = fold(log.slice(0, 100));
    const before = p.serialize();
    const [header, ...rest] = fold(log).serialize().join('\n').split('\n') as [string, ...string[]];
    const saved = JSON.parse(header) as Record<string, unknown>;
    const withHeader = (h: Record<string, unknown>) => [JSON.stringify(h), ...rest].join('\n');
    const rollout = rest.find((l) => l.startsWith('["instructed",'))!;
    for (const data of [
      'not json',
      'null',
      '{}',
      [],
      withHeader({ ...saved, format: 0 }),
      withHeader({ ...saved, machines: 'another build' }),
      withHeader({ ...saved, position: 'x' }),
      [header, '["nonsense", {}]'].join('\n'),
      // A chunk before (or without) the record it belongs to.
      [header, rollout].join('\n'),
      [header, ...rest.slice(0, 10), 'truncated {'].join('\n'),
    ]) {
      expect(p.restore(data), String(data).slice(0, 40)).toBe(false);
      expect(p.serialize()).toEqual(before);
    }
  });
});

describe('the rollouts that instructed a device', () => {
  it('are those whose records hold it, in the order of the rollouts, folded or restored at any point of the log', () => {
    const scan = (p: FleetProjection, device: string) => [...p.rollouts.values()].filter((r) => r.instructed.has(device)).map((r) => r.id);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: log.length }), (cut) => {
        const p = fold(log.slice(0, cut));
        const restored = new FleetProjection();
        expect(restored.restore(p.serialize())).toBe(true);
        fold(log.slice(cut), restored);
        const whole = fold(log);
        for (const device of whole.devices.keys()) {
          expect(p.rolloutsInstructing(device)).toEqual(scan(p, device));
          expect(restored.rolloutsInstructing(device)).toEqual(scan(whole, device));
        }
        expect([...whole.devices.keys()].some((d) => whole.rolloutsInstructing(d).length > 1)).toBe(true);
      }),
      { seed: 7, numRuns: 25 },
    );
  });
});
