/**
 * Spreading leases over instances: the plan (pure, property-tested: rounds of every instance converge to each name
 * held once, none over its share) and the keeper on a real PostgreSQL (three instances, four tenants; one dies, the
 * others take its tenants once its leases lapse).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createLeaseKeeper, planLeases, type LeaseKeeper } from './lease-keeper.js';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-store.js';
import { dropAll, newSchema, url } from '../test/helpers.js';

describe('planLeases', () => {
  it('rounds of every live instance end with each name held by exactly one, none holding more than its share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(4), { maxLength: 12 }), (n, k, initial) => {
        const names = Array.from({ length: n }, (_, i) => `tenant-${i}`);
        const owners = Array.from({ length: k }, (_, i) => `instance-${i}`);
        const holders = new Map<string, string>();
        // Whatever was held before (by instances alive now), possibly unevenly.
        initial.forEach((o, i) => i < n && holders.set(names[i]!, owners[o % k]!));
        for (let round = 0; round < 4; round++) {
          for (const owner of owners) {
            const plan = planLeases({ owner, names, holders, instances: k });
            for (const name of plan.release) holders.delete(name);
            for (const name of plan.acquire) if (!holders.has(name)) holders.set(name, owner);
          }
        }
        const share = Math.ceil(n / k);
        expect(names.every((name) => holders.has(name))).toBe(true);
        for (const owner of owners) expect([...holders.values()].filter((o) => o === owner).length).toBeLessThanOrEqual(share);
      }),
      { seed: 22, numRuns: 300 },
    );
  });

  it('never plans to take a name another instance holds', () => {
    const plan = planLeases({ owner: 'a', names: ['x', 'y'], holders: new Map([['x', 'b']]), instances: 1 });
    expect(plan.acquire).toEqual(['y']);
    expect(plan.release).toEqual([]);
  });
});

describe.skipIf(!url)('the lease keeper on PostgreSQL', () => {
  const stores: PostgresEventStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await dropAll();
  });

  it('spreads four tenants over three instances, and the survivors take a dead instance’s tenants once its leases lapse', async () => {
    const schema = newSchema();
    const names = ['acme', 'globex', 'initech', 'umbrella'].map((t) => `orchestrator/${t}`);
    const keepers: LeaseKeeper[] = [];
    for (const owner of ['i1', 'i2', 'i3']) {
      const store = await createPostgresEventStore({ connectionString: url!, schema, max: 2 });
      stores.push(store);
      keepers.push(createLeaseKeeper({ leases: store.leases({ owner, ttlMs: 1_500 }), names: () => names }));
    }
    const rounds = async (alive: LeaseKeeper[], n: number) => {
      for (let i = 0; i < n; i++) for (const k of alive) await k.round();
    };
    await rounds(keepers, 3);
    const held = keepers.map((k) => k.held());
    expect(held.flat().sort()).toEqual([...names].sort());
    expect(Math.max(...held.map((h) => h.length))).toBeLessThanOrEqual(2);
    for (const [i, k] of keepers.entries()) for (const name of held[i]!) expect(k.fence(name)?.owner).toBe(`i${i + 1}`);

    // i1 dies (no more rounds, nothing released): until its leases lapse nobody takes them.
    const dead = held[0]!;
    const deadEpochs = new Map(dead.map((name) => [name, keepers[0]!.fence(name)!.epoch]));
    const survivors = keepers.slice(1);
    await rounds(survivors, 1);
    for (const name of dead) expect(survivors.some((k) => k.held().includes(name))).toBe(false);
    // The survivors go on with their rounds (as their timers would) until the dead one's leases lapse.
    const lapsed = Date.now() + 1_600;
    while (Date.now() < lapsed) {
      await rounds(survivors, 1);
      await new Promise((ok) => setTimeout(ok, 250));
    }
    await rounds(survivors, 2);
    expect(survivors.flatMap((k) => k.held()).sort()).toEqual([...names].sort());
    for (const name of dead) {
      const owner = survivors.find((k) => k.held().includes(name))!;
      expect(owner.fence(name)!.epoch).toBe(deadEpochs.get(name)! + 1);
    }
    // The dead instance's own view: its leases ran out by its clock too, so it would fence nothing.
    for (const name of dead) expect(keepers[0]!.fence(name)).toBeUndefined();
    for (const k of survivors) await k.stop();
    expect(survivors.flatMap((k) => k.held())).toEqual([]);
  });
});
