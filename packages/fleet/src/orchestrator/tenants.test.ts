/**
 * Tenants over one SQLite file: an orchestrator per tenant, each on its tenant's view of the store (scopeStore),
 * unchanged; the same device names, the same release, the same report ids, different policies. Each tenant's log is
 * what its orchestrator writes on a store of its own, event for event: the other tenants' rollouts change nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tenantOf } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createEngine } from '@hotpatch/engine';
import { createInMemoryEventStore, scopeStore, type EventStore, type RecordedEvent } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { simulatedClock } from '../clock.js';
import type { FleetPolicy } from '../policy.js';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

/** A tenant that tolerates more failures in its pilot ring than POLICY's one. */
const LENIENT: FleetPolicy = { ...POLICY, rings: [{ ...POLICY.rings[0]!, budget: { count: 3 }, gate: { ...POLICY.rings[0]!.gate, maxFailureRate: 0.75 } }, POLICY.rings[1]!] };
const POLICIES: Record<string, FleetPolicy> = { default: POLICY, acme: POLICY, globex: LENIENT };

/** Each tenant's fleet and rollout over its store, in turns: 12 devices, two of the pilot's failing the hotpatch. */
async function run(stores: ReadonlyMap<string, EventStore>): Promise<void> {
  const clock = simulatedClock(RELEASED);
  const fleets = [...stores].map(([tenant, store]) => ({ tenant, store, engine: createEngine({ store, clock: () => clock.now() }), orchestrator: createOrchestrator({ store, clock, policy: POLICIES[tenant]! }) }));
  for (const { engine } of fleets) {
    for (let i = 0; i < 12; i++) {
      const device = `d${i}`;
      const id = (n: number) => `0193f2a0-0000-7000-9000-${(i * 2 + n).toString(16).padStart(12, '0')}`;
      await engine.execute({ type: 'EnrolDevice', id: id(0), device, profile: eligibleProfile, ring: i < 4 ? 'pilot' : 'broad', baseline: HOTPATCH.baseline });
      await engine.execute({ type: 'AssessEligibility', id: id(1), device, latestBaseline: HOTPATCH.baseline });
    }
  }
  for (const { orchestrator } of fleets) await orchestrator.planRollout(HOTPATCH);
  for (let round = 0; round < 8; round++) {
    for (const { orchestrator } of fleets) {
      await orchestrator.tick();
      const devices = [...orchestrator.projection.devices.values()].filter((d) => d.state.value === 'applying' || d.state.value === 'applied');
      for (const [i, { id: device, state }] of devices.entries()) {
        const id = `0193f2a0-0000-7000-8000-${(round * 100 + i).toString(16).padStart(12, '0')}`;
        if (state.value === 'applied') await orchestrator.report({ id, device, kind: 'health', patch: HOTPATCH.id, healthy: true });
        else if (device === 'd0' || device === 'd1') await orchestrator.report({ id, device, kind: 'apply-failed', patch: HOTPATCH.id, reason: 'boot driver' });
        else await orchestrator.report({ id, device, kind: 'applied', patch: HOTPATCH.id });
      }
    }
    clock.advance(30 * 3600);
  }
}

const content = (events: readonly RecordedEvent[]) => events.map(({ position: _p, hash: _h, ...rest }) => rest);

it('an orchestrator per tenant over one SQLite file: each tenant’s log is what it would be alone, under its own policy', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotpatch-tenants-'));
  const store = openSqliteEventStore({ path: join(dir, 'fleet.db'), durability: 'normal' });
  try {
    const tenants = Object.keys(POLICIES);
    await run(new Map(tenants.map((t) => [t, scopeStore(store, t)])));
    for (const tenant of tenants) {
      const alone = createInMemoryEventStore();
      await run(new Map([[tenant, alone]]));
      expect(content(await scopeStore(store, tenant).readAll()), tenant).toEqual(content(await alone.readAll()));
    }
    // The policies made the difference: POLICY's pilot budget (one failure) halts the rollout, LENIENT's goes on.
    const rollout = async (tenant: string) => (await scopeStore(store, tenant).readState(`rollout/${HOTPATCH.id}`)).state.value;
    expect([await rollout('default'), await rollout('acme'), await rollout('globex')]).toEqual(['halted', 'halted', 'completed']);
    // One log: the default tenant's streams unprefixed, the others' under their prefix; every id once.
    const log = await store.readAll();
    expect(new Set(log.map((e) => tenantOf(e.stream)))).toEqual(new Set([undefined, 'acme', 'globex']));
    expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
