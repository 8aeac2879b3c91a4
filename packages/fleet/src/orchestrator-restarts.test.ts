import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { createOrchestrator, FleetProjection, simulatedClock } from './index.js';
import { agentsRespond, BROAD, finishAfterRestart, fleet, hotpatch, instructionsIn, PILOT, policy, RELEASED } from './orchestrator/testing/rollout-fixture.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-fleet-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('orchestrator', () => {
  it('restarts mid-rollout on SQLite without repeating or losing an instruction', async () => {
    const path = join(dir, 'restart.db');
    const clock = simulatedClock(RELEASED);
    const first = openSqliteEventStore({ path });
    await fleet(first, clock);
    const a = createOrchestrator({ store: first, clock, policy: { ...policy, maxInstructionsPerTick: 2 } });
    await a.planRollout(hotpatch);
    await a.tick(); // two of the three pilot devices
    await agentsRespond(a);
    await first.close();

    // A new instance on the same database: it rebuilds its view from the log and carries on.
    const second = openSqliteEventStore({ path });
    const b = createOrchestrator({ store: second, clock, policy });
    await finishAfterRestart(b, clock, second);
    // Every device got exactly one stage and one apply.
    for (const id of [...PILOT, ...BROAD]) {
      const types = (await second.readStream(`device/${id}`)).map((e) => e.type);
      expect(types.filter((t) => t === 'PatchStaged')).toHaveLength(1);
      expect(types.filter((t) => t === 'PatchApplyStarted')).toHaveLength(1);
    }
    await second.close();
  });

  it('restarts from its saved projection on SQLite: reads only the log after it, and decides as a full rebuild would', async () => {
    const path = join(dir, 'checkpoint.db');
    const clock = simulatedClock(RELEASED);
    const checkpoint = { name: 'orchestrator', every: 1 };
    const first = openSqliteEventStore({ path });
    await fleet(first, clock);
    const a = createOrchestrator({ store: first, clock, policy: { ...policy, maxInstructionsPerTick: 2 }, checkpoint });
    await a.planRollout(hotpatch);
    await a.tick();
    await agentsRespond(a);
    const saved = (await first.readProjection('orchestrator'))!;
    expect(saved.position).toBe(a.projection.position);
    await first.close();

    // The restarted instance: every read of the log it makes is counted.
    const second = openSqliteEventStore({ path });
    const reads: number[] = [];
    const counted: EventStore = { ...second, readAll: (o) => (reads.push(o?.fromPosition ?? 1), second.readAll(o)), batch: second.batch!.bind(second) };
    const b = createOrchestrator({ store: counted, clock, policy, checkpoint });
    await b.sync();
    expect(reads[0]).toBe(saved.position + 1);
    const rebuilt = new FleetProjection();
    for (const e of await second.readAll()) rebuilt.apply(e);
    expect(b.projection.serialize()).toEqual(rebuilt.serialize());
    // And it carries on from there, as the restart without a checkpoint does.
    await finishAfterRestart(b, clock, second);
    expect((await second.readProjection('orchestrator'))!.position).toBe(b.projection.position);
    // A projection saved by another format or machines is not trusted: the next instance reads the whole log.
    second.db.prepare(`UPDATE projections SET data = replace(data, '"machines":"', '"machines":"another build ')`).run();
    reads.length = 0;
    const c = createOrchestrator({ store: counted, clock, policy, checkpoint });
    await c.sync();
    expect(reads[0]).toBe(1);
    expect(c.projection.serialize()).toEqual(b.projection.serialize());
    await second.close();
  });

  const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
  if (!postgresUrl) console.warn('orchestrator on PostgreSQL skipped: HOTPATCH_TEST_POSTGRES_URL is not set');
  it.skipIf(!postgresUrl)('restarts mid-rollout on PostgreSQL, and two instances over one PostgreSQL log write each decision once', async () => {
    const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
    const schema = `hotpatch_fleet_${process.pid}_${Date.now()}`;
    const clock = simulatedClock(RELEASED);
    const first = await createPostgresEventStore({ connectionString: postgresUrl!, schema });
    try {
      await fleet(first, clock);
      const checkpoint = { name: 'orchestrator', every: 1 };
      const a = createOrchestrator({ store: first, clock, policy: { ...policy, maxInstructionsPerTick: 2 }, checkpoint });
      await a.planRollout(hotpatch);
      await a.tick();
      await agentsRespond(a);
      expect((await first.readProjection('orchestrator'))!.position).toBe(a.projection.position);
      // Two new instances (sharing the saved projection) on their own pools: the restart, and a second one running alongside it.
      const stores = [await createPostgresEventStore({ connectionString: postgresUrl!, schema }), await createPostgresEventStore({ connectionString: postgresUrl!, schema })];
      const [b, c] = stores.map((store, i) => createOrchestrator({ store, clock, policy, meta: { instance: `pg-${i}` }, checkpoint }));
      await Promise.all([b!.planRollout(hotpatch), c!.planRollout(hotpatch)]);
      await Promise.all([b!.tick(), c!.tick()]);
      for (let i = 0; i < 3; i++) await agentsRespond(b!);
      clock.advance(25 * 3600);
      await Promise.all([b!.tick(), c!.tick()]);
      clock.jumpTo('2026-02-13T17:00:00.000Z');
      await Promise.all([b!.tick(), c!.tick()]);
      await c!.sync();
      for (let i = 0; i < 3; i++) await agentsRespond(c!);
      clock.advance(25 * 3600);
      await Promise.all([b!.tick(), c!.tick()]);
      await b!.sync();
      expect(b!.projection.rollouts.get('HP-2026-02')!.state.value).toBe('completed');
      // The furthest save is the log's end as b saw it, and it is what a full rebuild gives.
      const rebuilt = new FleetProjection();
      for (const e of await stores[0]!.readAll()) rebuilt.apply(e);
      expect(await b!.saveCheckpoint()).toBe(true);
      expect((await stores[0]!.readProjection('orchestrator'))!.parts).toEqual(rebuilt.serialize());
      const instructed = await instructionsIn(stores[0]!, 'rollout/HP-2026-02');
      expect(instructed.sort()).toEqual([...PILOT, ...BROAD].sort());
      for (const id of [...PILOT, ...BROAD]) {
        const types = (await stores[0]!.readStream(`device/${id}`)).map((e) => e.type);
        expect(types.filter((t) => t === 'PatchStaged')).toHaveLength(1);
      }
      for (const s of stores) await s.close();
    } finally {
      await first.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await first.close();
    }
  });

  it('two instances over one log cooperate: the same decisions are written once', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    await fleet(store, clock);
    const a = createOrchestrator({ store, clock, policy, meta: { instance: 'a' } });
    const b = createOrchestrator({ store, clock, policy, meta: { instance: 'b' } });
    await Promise.all([a.planRollout(hotpatch), b.planRollout(hotpatch)]);
    await Promise.all([a.tick(), b.tick()]);
    expect((await instructionsIn(store, 'rollout/HP-2026-02')).sort()).toEqual([...PILOT].sort());
    for (const id of PILOT) expect((await store.readStream(`device/${id}`)).filter((e) => e.type === 'PatchStaged')).toHaveLength(1);
  });
});
