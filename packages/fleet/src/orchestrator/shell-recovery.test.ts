/** A unit of work that fails part way leaves the instance as the log says, on a store that keeps what it had written. */
import { describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createEngine } from '@hotpatch/engine';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

/** The memory store (no transactions), failing its appends after the first `allowed` while `armed`. */
function failingStore() {
  const inner = createInMemoryEventStore();
  const control = { armed: false, allowed: 1, seen: 0 };
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'appendToStream') {
        return async (...args: Parameters<EventStore['appendToStream']>) => {
          if (control.armed && control.seen++ >= control.allowed) throw new Error('disk full');
          return target.appendToStream(...args);
        };
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as EventStore;
  return { store, control };
}

/** Three eligible pilot devices on a failing store, enrolled and assessed. */
async function pilotFleet() {
  const { store, control } = failingStore();
  const clock = simulatedClock(RELEASED);
  const engine = createEngine({ store, clock: () => clock.now() });
  for (const device of ['p1', 'p2', 'p3']) {
    await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring: 'pilot', baseline: HOTPATCH.baseline });
    await engine.execute({ type: 'AssessEligibility', device, latestBaseline: HOTPATCH.baseline });
  }
  return { store, control, clock };
}

describe('a unit of work that fails part way', () => {
  it('leaves the projection at the log’s end, and the next tick carries on from there', async () => {
    const { store, control, clock } = await pilotFleet();
    const o = createOrchestrator({ store, clock, policy: POLICY });
    await o.planRollout(HOTPATCH);
    const before = (await store.readAll()).length;
    // The first tick instructs the pilot: several appends; the second one fails.
    control.armed = true;
    await expect(o.tick()).rejects.toThrow('disk full');
    const log = await store.readAll();
    expect(log.length).toBe(before + 1);
    expect(o.projection.position).toBe(log.at(-1)!.position);
    control.armed = false;
    await o.tick();
    const after = await store.readAll();
    expect(o.projection.position).toBe(after.at(-1)!.position);
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length);
  });

  it('in a tick of several units: the tick throws, its earlier units stay whole, and the next tick instructs the rest once', async () => {
    const { store, control, clock } = await pilotFleet();
    const o = createOrchestrator({ store, clock, policy: POLICY, instructionsPerUnit: 1 });
    await o.planRollout(HOTPATCH);
    // The first unit: the ring start and p1's instruction (4 appends); the second unit fails at its first append.
    control.armed = true;
    control.allowed = 4;
    await expect(o.tick()).rejects.toThrow('disk full');
    const instructed = async () => (await store.readStream('rollout/HP-2026-02')).filter((e) => e.type === 'DeviceInstructed').map((e) => (e.data as { device: string }).device);
    expect(await instructed()).toEqual(['p1']);
    expect(o.projection.position).toBe((await store.readAll()).at(-1)!.position);
    control.armed = false;
    expect(await o.tick()).toMatchObject({ instructed: 2, ringsStarted: 0 });
    expect(await instructed()).toEqual(['p1', 'p2', 'p3']);
    const log = await store.readAll();
    expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
  });
});
