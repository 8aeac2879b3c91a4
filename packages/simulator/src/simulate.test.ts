import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, readLog } from '@hotpatch/store';
import { DEFAULT_POLICY, FleetProjection } from '@hotpatch/fleet';
import { DEFAULT_FAULTS, simulate, type Faults } from './index.js';
import { figuresFromLog } from './figures.js';

describe('the simulator’s figures', () => {
  it('counted as the service applies the log are the figures read back from the log, in either arm', async () => {
    for (const arm of ['hotpatch', 'traditional'] as const) {
      const store = createInMemoryEventStore();
      const result = await simulate({ devices: 200, months: 4, seed: 4, policy: DEFAULT_POLICY, store, arm });
      expect(result.figures.events).toBe(store.all.length);
      expect(result.figures.reboots).toBeGreaterThan(0);
      expect(result.figures).toEqual(await figuresFromLog(readLog(store), 4, result.end));
    }
  });
});

/** One arm over 300 devices and 3 months, with many silent agents; its log, figures and the projection of it. */
async function run(faults: Faults) {
  const store = createInMemoryEventStore();
  const result = await simulate({ devices: 300, months: 3, seed: 9, policy: DEFAULT_POLICY, store, arm: 'hotpatch', faults });
  const projection = new FleetProjection();
  for (const e of store.all) projection.apply(e);
  return { result, projection, events: store.all };
}

describe('simulated agents that fall silent', () => {
  const silent: Faults = { ...DEFAULT_FAULTS, silentAgents: 0.15 };

  it('come back after their silence and carry on; the devices set aside then end protected, and need no one', async () => {
    const forGood = await run({ ...silent, silentDays: undefined });
    const returning = await run({ ...silent, silentDays: [2, 6] });
    // Many devices are set aside for their silence.
    const setAside = (p: FleetProjection) => [...p.rollouts.values()].flatMap((r) => [...r.outcomes].filter(([, o]) => o === 'setAside').map(([d]) => `${r.id} ${d}`));
    expect(setAside(forGood.projection).length).toBeGreaterThan(5);
    // Silent for good: every device a rollout set aside is still exposed to its release at the end.
    const exposedAfterSetAside = (p: FleetProjection) =>
      [...p.rollouts.values()].flatMap((r) => [...r.outcomes].filter(([d, o]) => o === 'setAside' && !p.releases.get(r.id)!.protectedSince.has(d)).map(([d]) => d));
    expect(exposedAfterSetAside(forGood.projection).length).toBeGreaterThan(0);
    // Back after 2–6 days: most devices set aside end protected against the release after all (by the rollout's
    // own steps, reported late, or caught up with later), and the figures count fewer devices needing attention
    // and fewer pairs still exposed.
    expect(exposedAfterSetAside(returning.projection).length).toBeLessThan(exposedAfterSetAside(forGood.projection).length / 2);
    expect(returning.result.figures.needingAttention).toBeLessThan(forGood.result.figures.needingAttention);
    expect(returning.result.figures.stillExposed).toBeLessThan(forGood.result.figures.stillExposed);
    // A device set aside for silence reports again afterwards: its agent's reports (not the service's commands) on
    // its stream after the rollout set it aside.
    const REPORTED = new Set(['PatchApplied', 'PatchVerified', 'HealthCheckFailed', 'PatchRolledBack', 'RollbackFailed', 'BaselineInstalled']);
    const heardAfterSetAside = (events: typeof returning.events) => {
      const setAsideAt = new Map<string, string>();
      for (const e of events) {
        const device = (e.data as { device?: string }).device;
        if (e.type === 'DeviceSetAside' && device !== undefined && !setAsideAt.has(device)) setAsideAt.set(device, e.time);
      }
      const heard = new Set(events.filter((e) => REPORTED.has(e.type) && e.time > (setAsideAt.get(e.stream.slice('device/'.length)) ?? '9999')).map((e) => e.stream));
      return { setAside: setAsideAt.size, heard: heard.size };
    };
    const back = heardAfterSetAside(returning.events);
    expect(back.heard).toBeGreaterThan(back.setAside / 2);
    expect(heardAfterSetAside(forGood.events).heard).toBe(0);
  });

  it('write the same log for a seed', async () => {
    const a = await run({ ...silent, silentDays: [2, 6] });
    const b = await run({ ...silent, silentDays: [2, 6] });
    expect(b.events.map((e) => JSON.stringify(e))).toEqual(a.events.map((e) => JSON.stringify(e)));
  });
});
