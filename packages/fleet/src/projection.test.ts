import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type RecordedEvent } from '@hotpatch/store';
import { DEFAULT_POLICY, FleetProjection, simulate } from './index.js';

// A real log: a small fleet through three months of rollouts, faults and all.
const store = createInMemoryEventStore();
await simulate({ devices: 30, months: 3, seed: 4, policy: DEFAULT_POLICY, store, arm: 'hotpatch' });
const log: RecordedEvent[] = await store.readAll();

const fold = (events: readonly RecordedEvent[], into = new FleetProjection()) => {
  for (const e of events) into.apply(e);
  return into;
};

describe('a saved fleet projection', () => {
  it('property: restored at any point of the log and carried on, it is the projection of the whole log', () => {
    const whole = fold(log).serialize();
    fc.assert(
      fc.property(fc.nat(log.length), (cut) => {
        const restored = new FleetProjection();
        expect(restored.restore(fold(log.slice(0, cut)).serialize())).toBe(true);
        expect(restored.position).toBe(cut === 0 ? 0 : log[cut - 1]!.position);
        expect(fold(log.slice(cut), restored).serialize()).toBe(whole);
      }),
      { seed: 20261126, numRuns: 40 },
    );
  });

  it('is not restored from anything but this build’s own form, and the projection is left as it was', () => {
    const p = fold(log.slice(0, 100));
    const before = p.serialize();
    const saved = JSON.parse(fold(log).serialize()) as Record<string, unknown>;
    for (const text of ['not json', 'null', '{}', JSON.stringify({ ...saved, format: 0 }), JSON.stringify({ ...saved, machines: 'another build' }), JSON.stringify({ ...saved, position: 'x' })]) {
      expect(p.restore(text), text.slice(0, 40)).toBe(false);
      expect(p.serialize()).toBe(before);
    }
  });
});
