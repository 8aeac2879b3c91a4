/**
 * The PostgreSQL store against a real server (HOTPATCH_TEST_POSTGRES_URL): the shared conformance suite, one fresh
 * schema per test; migrations; snapshots; the global order under 8 concurrent writers while a consumer follows;
 * LISTEN/NOTIFY as a wake-up; and a connection killed in the middle of an append.
 */
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { seededRandom, TransitionRefusedError } from '@hotpatch/core';
import { DatabaseBusyError, EventIdTakenError, MigrationRefusedError, WrongExpectedVersionError, type NewEvent, type RecordedEvent } from '@hotpatch/store';
import { describeEventStoreConformance, events, scopedUnderTest, type StoreUnderTest } from '@hotpatch/store/conformance';
import { verifyTimeline } from '@hotpatch/replay';
import { createPostgresEventStore, type PostgresEventStore } from './postgres-store.js';
import { ConnectionLostError } from './errors.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { admin, dropAll, dropSchema, newSchema, url } from '../test/helpers.js';

const open = (schema: string, options: Partial<Parameters<typeof createPostgresEventStore>[0]> = {}) => createPostgresEventStore({ connectionString: url!, schema, max: 4, ...options });

describe.skipIf(!url)('PostgreSQL event store', () => {
  afterAll(dropAll);

  const openUnderTest = (stateCacheSize: number | undefined) => async (): Promise<StoreUnderTest> => {
    const schema = newSchema();
    const store = await open(schema, { stateCacheSize });
    const others: PostgresEventStore[] = [];
    return {
      store,
      reopen: async () => {
        const other = await open(schema, { stateCacheSize });
        others.push(other);
        return other;
      },
      cleanup: async () => {
        await Promise.all([store, ...others].map((s) => s.close()));
        await dropSchema(schema);
      },
    };
  };
  // Twice: with the heads this store wrote kept as guesses for its next appends (the default), and without.
  for (const [name, stateCacheSize] of [['PostgreSQL', undefined], ['PostgreSQL, no head cache', 0]] as const) describeEventStoreConformance(name, openUnderTest(stateCacheSize));
  // The same contract on a tenant's view of a schema that other tenants share.
  describeEventStoreConformance('PostgreSQL, tenant "acme"’s view', scopedUnderTest(openUnderTest(undefined), 'acme'));

  it('an append starts from the head this store last wrote (one round trip), and a stale one costs a read, never a wrong answer', async () => {
    const schema = newSchema();
    const a = await open(schema);
    const b = await open(schema);
    const reads = { a: 0 };
    const query = a.pool.query.bind(a.pool) as (...args: unknown[]) => Promise<unknown>;
    (a.pool as unknown as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
      if (typeof config === 'object' && config !== null && String((config as { name?: unknown }).name).endsWith('.appendHead')) reads.a++;
      return query(config, ...rest);
    };
    const stream = 'device/guessed';
    const first = [events.enrolled(), events.assessed()];
    await a.appendToStream(stream, first);
    expect(reads.a).toBe(1);
    // Its own head: no read.
    await a.appendToStream(stream, [events.assessed()], { expectedVersion: 2 });
    expect(reads.a).toBe(1);
    // A retry of its own batch, on its own current head: found by the unique index, the original result.
    const again = await a.appendToStream(stream, first);
    expect(again).toMatchObject({ written: false, versions: [1, 2] });
    // Another instance appends: a's guess is stale. A version conflict is checked on a fresh read.
    await b.appendToStream(stream, [events.assessed(), events.assessed()]);
    const conflict = await a.appendToStream(stream, [events.assessed()], { expectedVersion: 3 }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(WrongExpectedVersionError);
    expect(conflict).toMatchObject({ actual: 5 });
    const readsBefore = reads.a;
    const ok = await a.appendToStream(stream, [events.assessed()], { expectedVersion: 5 });
    expect(ok.versions).toEqual([6]);
    expect(reads.a).toBeGreaterThan(readsBefore);
    // With 'any' on a stale guess: the write finds the stream moved, reads, and appends after b's events.
    await b.appendToStream(stream, [events.assessed()]);
    expect((await a.appendToStream(stream, [events.assessed()])).versions).toEqual([8]);
    // A lifecycle refusal on a stale guess is judged again on a fresh read: b enrolled nothing new, so a staged
    // patch is refused from b's state as it is.
    await b.appendToStream(stream, [events.staged('P1', 'B1')]);
    const refused = await a.appendToStream(stream, [events.staged('P2', 'B1')]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransitionRefusedError);
    expect(refused).toMatchObject({ state: 'staged' });
    expect(verifyTimeline({ events: await a.readAll() }).problems).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('a writer waits for a batch that holds the log head only busyTimeoutMs, then fails with DatabaseBusyError, nothing written', async () => {
    const schema = newSchema();
    const holder = await open(schema);
    const other = await open(schema, { busyTimeoutMs: 300 });
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let appended!: () => void;
      const inBatch = new Promise<void>((resolve) => (appended = resolve));
      const batch = holder.batch!(async () => {
        await holder.appendToStream('device/held', [events.enrolled()]);
        await holder.readAll({ limit: 1 }); // its rows written: the log head is locked
        appended();
        await held;
      });
      await inBatch;
      try {
        await expect(other.appendToStream('device/waiting', [events.enrolled()])).rejects.toThrow(DatabaseBusyError);
      } finally {
        release();
        await batch;
      }
      expect((await other.readAll()).map((e) => e.stream)).toEqual(['device/held']);
      await other.appendToStream('device/waiting', [events.enrolled()]);
    } finally {
      await other.close();
      await holder.close();
    }
  });

  it('refuses a state cache size that is not a whole number ≥ 0', async () => {
    await expect(open(newSchema(), { stateCacheSize: -1 })).rejects.toThrow(/stateCacheSize must be a whole number ≥ 0, not -1/);
  });

  describe('migrations', () => {
    it('are applied once, and running them again changes nothing', async () => {
      const schema = newSchema();
      const client = await admin().connect();
      try {
        expect(await migrate(client, schema)).toEqual(MIGRATIONS.map((m) => m.version));
        expect(await migrate(client, schema)).toEqual([]);
        expect((await client.query(`SELECT version FROM "${schema}".schema_migrations`)).rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
      } finally {
        client.release();
      }
    });

    it('are safe from several connections opening a new schema at once', async () => {
      const schema = newSchema();
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema, { max: 1 })));
      await Promise.all(stores.map((s) => s.close()));
      expect((await admin().query(`SELECT version FROM "${schema}".schema_migrations`)).rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    });

    it('4 makes ids unique across the log in the C collation, and refuses a log that holds one id twice, naming it, changing nothing', async () => {
      const schema = newSchema();
      const before4 = MIGRATIONS.filter((m) => m.version < 4);
      const id = '0193f2a0-0000-7000-8000-000000000001';
      const insert = (position: number, stream: string) =>
        admin().query(`INSERT INTO "${schema}".events (position, stream, version, id, type, time, data, hash) VALUES ($1, $2, 1, $3, 'DeviceEnrolled', 't', '{}', 'h')`, [position, stream, id]);
      const constraints = async () =>
        (await admin().query<{ conname: string }>(`SELECT conname FROM pg_constraint WHERE conrelid = '"${schema}".events'::regclass AND contype = 'u' ORDER BY conname`)).rows.map((r) => r.conname);
      const client = await admin().connect();
      try {
        // A schema written by an earlier build: ids unique per stream only, one of them in two streams.
        expect(await migrate(client, schema, before4)).toEqual([1, 2, 3]);
        await insert(1, 'device/a');
        await insert(2, 'device/b');
        const refused = await migrate(client, schema).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(MigrationRefusedError);
        expect((refused as Error).message).toContain(`migration 4 refused, nothing was changed: event ids must be unique across the log, and these are held more than once: ${id} (device/a v1, device/b v1)`);
        expect((await admin().query(`SELECT max(version) AS v FROM "${schema}".schema_migrations`)).rows).toEqual([{ v: 3 }]);
        expect(await constraints()).toEqual(['events_stream_id', 'events_stream_version']);
        // Without the copy: migrated, and the constraint refuses the copy from then on.
        await admin().query(`DELETE FROM "${schema}".events WHERE stream = 'device/b'`);
        expect(await migrate(client, schema, MIGRATIONS.filter((m) => m.version <= 4))).toEqual([4]);
        expect(await constraints()).toEqual(['events_id', 'events_stream_version']);
        await expect(insert(2, 'device/b')).rejects.toMatchObject({ code: '23505', constraint: 'events_id' });
        const collations = await admin().query<{ rel: string; col: string; coll: string }>(
          `SELECT c.relname AS rel, a.attname AS col, co.collname AS coll FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_collation co ON co.oid = a.attcollation
           WHERE n.nspname = $1 AND a.attname IN ('stream', 'id') AND c.relname IN ('events', 'streams', 'snapshots') ORDER BY rel, col`,
          [schema],
        );
        expect(collations.rows.map((r) => `${r.rel}.${r.col} ${r.coll}`)).toEqual(['events.id C', 'events.stream C', 'snapshots.stream C', 'streams.stream C']);
      } finally {
        client.release();
      }
    });

    it('refuse a schema from a newer build', async () => {
      const schema = newSchema();
      await (await open(schema)).close();
      await admin().query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (99, 'future')`);
      await expect(open(schema)).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW', message: expect.stringMatching(/schema .* is at version 99, newer than this build knows/) });
    });

    it('refuse a schema name that is not a plain identifier', async () => {
      await expect(open('Robert"); DROP TABLE x; --')).rejects.toMatchObject({ code: 'INVALID_SCHEMA_NAME', message: expect.stringContaining('a schema name must be lower case letters') });
    });
  });

  describe('snapshots', () => {
    const t = '2026-01-05T08:00:00.000Z';
    const history: NewEvent[] = [
      events.enrolled(),
      events.assessed(),
      events.staged('P1'),
      { type: 'PatchApplyStarted', time: t, data: { patch: 'P1' } },
      { type: 'PatchApplied', time: t, data: { patch: 'P1' } },
    ];

    it('read a device from its latest snapshot, not its whole history', async () => {
      const schema = newSchema();
      const store = await open(schema);
      await store.appendToStream('device/s', history);
      expect(await store.readState('device/s')).toMatchObject({ version: 5, snapshotVersion: 5, eventsFolded: 0, state: { value: 'applied' } });
      // Wind the snapshot back to version 3: only the two events after it are folded.
      const { rows } = await store.pool.query(`SELECT state FROM "${schema}".snapshots WHERE stream = 'device/s'`);
      const atThree = { ...rows[0].state, value: 'staged', context: { ...rows[0].state.context, applied: {} } };
      await store.pool.query(`UPDATE "${schema}".snapshots SET version = 3, state = $1 WHERE stream = 'device/s'`, [JSON.stringify(atThree)]);
      // A handle that has not kept the stream's state (this one keeps what it wrote and read) folds from the snapshot.
      const fresh = await open(schema);
      expect(await fresh.readState('device/s')).toMatchObject({ version: 5, snapshotVersion: 3, eventsFolded: 2, state: { value: 'applied', context: { applied: { P1: [] } } } });
      await fresh.close();
      await store.close();
    });

    it('a state kept at the stream’s head is read without its snapshot; a write elsewhere is seen at the next read', async () => {
      const schema = newSchema();
      const store = await open(schema);
      const other = await open(schema);
      await store.appendToStream('device/k', history.slice(0, 3));
      expect(await store.readState('device/k')).toMatchObject({ version: 3, state: { value: 'staged' } });
      // The snapshot rewritten behind the store's back: a store that kept the state at this head does not read it.
      const { rows } = await store.pool.query(`SELECT state FROM "${schema}".snapshots WHERE stream = 'device/k'`);
      await store.pool.query(`UPDATE "${schema}".snapshots SET state = json_build_object('value', 'retired', 'context', state->'context') WHERE stream = 'device/k'`);
      expect(await store.readState('device/k')).toMatchObject({ version: 3, snapshotVersion: 3, eventsFolded: 0, state: { value: 'staged' } });
      await store.pool.query(`UPDATE "${schema}".snapshots SET state = $1 WHERE stream = 'device/k'`, [JSON.stringify(rows[0].state)]);
      // Another handle writes: the head moved, the read folds again from the store.
      await other.appendToStream('device/k', history.slice(3), { expectedVersion: 3 });
      expect(await store.readState('device/k')).toMatchObject({ version: 5, state: { value: 'applied' } });
      // And that state is kept in turn.
      await store.pool.query(`UPDATE "${schema}".snapshots SET state = json_build_object('value', 'retired', 'context', state->'context') WHERE stream = 'device/k'`);
      expect(await store.readState('device/k')).toMatchObject({ version: 5, state: { value: 'applied' } });
      await other.close();
      await store.close();
    });

    it('ignore a snapshot written by another version of the machine, and rebuild it', async () => {
      const schema = newSchema();
      const old = await open(schema, { machineFingerprint: 'an-older-lifecycle' });
      await old.appendToStream('device/m', history);
      // The old build's snapshot says something this machine would not: it must not be trusted.
      await old.pool.query(`UPDATE "${schema}".snapshots SET state = json_build_object('value', 'retired', 'context', state->'context')`);
      await old.close();
      const store = await open(schema);
      expect(await store.readState('device/m')).toMatchObject({ snapshotVersion: 0, eventsFolded: 5, state: { value: 'applied' } });
      expect(await store.readState('device/m')).toMatchObject({ snapshotVersion: 5, eventsFolded: 0, state: { value: 'applied' } });
      // And appends decide on the rebuilt state.
      await store.appendToStream('device/m', [{ type: 'PatchVerified', time: t, data: { patch: 'P1' } }]);
      expect((await store.readState('device/m')).state.value).toBe('verified');
      await store.close();
    });
  });

  it("8 writers appending to one stream with 'any' all succeed, each read and checked again when another got there first", async () => {
    const schema = newSchema();
    const writers = await Promise.all(Array.from({ length: 8 }, () => open(schema, { max: 1 })));
    const stream = 'device/contested';
    await writers[0]!.appendToStream(stream, [events.enrolled()]);
    // Count the write statements that found the stream moved (no row back) and were tried again.
    let writes = 0;
    for (const w of writers) {
      const query = w.pool.query.bind(w.pool) as (...args: unknown[]) => Promise<unknown>;
      (w.pool as unknown as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
        if (typeof config === 'object' && config !== null && String((config as { name?: unknown }).name).endsWith('.appendExisting')) writes++;
        return query(config, ...rest);
      };
    }
    const results = await Promise.all(writers.flatMap((w) => Array.from({ length: 25 }, () => w.appendToStream(stream, [events.assessed()], { expectedVersion: 'any' }))));
    expect(results.every((r) => r.written)).toBe(true);
    expect(results.map((r) => r.versions[0]).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    expect(writes).toBeGreaterThan(200);
    const all = await writers[0]!.readStream(stream);
    expect(all.map((e) => e.version)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    expect(verifyTimeline({ events: await writers[0]!.readAll() }).problems).toEqual([]);
    await Promise.all(writers.map((s) => s.close()));
  });

  it('8 writers racing to append one id to 8 streams: one wins, the others are refused naming its stream, and the log verifies', async () => {
    const schema = newSchema();
    const writers = await Promise.all(Array.from({ length: 8 }, () => open(schema, { max: 1 })));
    for (let round = 0; round < 10; round++) {
      const contested = events.enrolled();
      // Each with a fresh id of its own first, so that the contested one is found by the unique index on insert.
      const settled = await Promise.allSettled(writers.map((w, i) => w.appendToStream(`device/race-${round}-${i}`, [events.enrolled(), { ...contested, type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } }])));
      const won = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of settled) {
        if (r.status === 'fulfilled') continue;
        expect(r.reason).toBeInstanceOf(EventIdTakenError);
        expect(r.reason).toMatchObject({ id: contested.id, holder: { stream: `device/race-${round}-${won[0]}`, version: 2 } });
      }
    }
    const log = await writers[0]!.readAll();
    expect(log).toHaveLength(20);
    expect(verifyTimeline({ events: log }).problems).toEqual([]);
    await Promise.all(writers.map((s) => s.close()));
  });

  it('global order: 8 writers on 8 pools append concurrently while a consumer follows; it sees every event once, in readAll order', async () => {
    const schema = newSchema();
    const writers = await Promise.all(Array.from({ length: 8 }, () => open(schema, { max: 1 })));
    const reader = await open(schema, { max: 2 });
    const seen: RecordedEvent[] = [];
    const gaps: string[] = [];
    // A small batch size, so that the consumer reads (and checkpoints) many times while the writers commit.
    const sub = reader.subscribe('order-check', (e) => {
      if (e.position !== (seen.at(-1)?.position ?? 0) + 1) gaps.push(`${seen.at(-1)?.position ?? 0} → ${e.position}`);
      seen.push(e);
    }, { batchSize: 37, pollIntervalMs: 5 });

    const acks: Array<{ ids: string[]; positions: readonly number[] }> = [];
    let conflicts = 0;
    await Promise.all(
      writers.map(async (store, w) => {
        const random = seededRandom(100 + w);
        for (let b = 0; b < 60; b++) {
          // 24 streams shared by the 8 writers: appends to one stream and first appends race.
          const stream = `device/order-${random.int(0, 23)}`;
          const size = random.int(1, 60);
          for (;;) {
            const version = await store.streamVersion(stream);
            const batch: NewEvent[] = [];
            if (version === 0) batch.push(events.enrolled());
            while (batch.length < size) batch.push(events.assessed(random.chance(0.5)));
            try {
              const r = await store.appendToStream(stream, batch, { expectedVersion: version === 0 ? 'no_stream' : version });
              acks.push({ ids: batch.map((e) => e.id!), positions: r.positions });
              break;
            } catch (error) {
              if (!(error instanceof WrongExpectedVersionError)) throw error;
              conflicts++;
            }
          }
        }
      }),
    );
    const total = acks.reduce((sum, a) => sum + a.ids.length, 0);
    // Bounded: a consumer that skipped an event may never get there, and the assertions below say why.
    await Promise.race([sub.waitFor(total), new Promise((ok) => setTimeout(ok, 15_000))]);
    await sub.stop();

    const all = await reader.readAll();
    expect(all).toHaveLength(total);
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
    expect(gaps).toEqual([]);
    expect(seen.map((e) => `${e.position} ${e.id}`)).toEqual(all.map((e) => `${e.position} ${e.id}`));
    // Each append's positions are the ones it was given, and the log verifies (versions, ids, hashes, transitions).
    const idAt = new Map(all.map((e) => [e.position, e.id]));
    for (const ack of acks) expect(ack.positions.map((p) => idAt.get(p))).toEqual(ack.ids);
    expect(verifyTimeline({ events: all }).problems.map((p) => p.message)).toEqual([]);
    expect(conflicts).toBeGreaterThan(0);
    // The stream heads are the last hash of each stream.
    const last = new Map(all.map((e) => [e.stream, e.hash]));
    expect(await reader.streamHeads()).toEqual([...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await Promise.all([...writers, reader].map((s) => s.close()));
  });

  it('a notification wakes a consumer at once, with an append from another pool (another process would do the same)', async () => {
    const schema = newSchema();
    const consumerSide = await open(schema);
    const writerSide = await open(schema);
    const seen: number[] = [];
    // Polling once a minute: only the notification can wake it within the test.
    const sub = consumerSide.subscribe('notified', (e) => {
      seen.push(e.position);
    }, { pollIntervalMs: 60_000 });
    await new Promise((ok) => setTimeout(ok, 200));
    const started = Date.now();
    const r = await writerSide.appendToStream('device/notify', [events.enrolled()]);
    await sub.waitFor(r.positions[0]!);
    expect(Date.now() - started).toBeLessThan(5_000);
    // stop() does not wait for the poll interval either.
    const stopping = Date.now();
    await sub.stop();
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(seen).toEqual(r.positions);
    await Promise.all([consumerSide.close(), writerSide.close()]);
  });

  it('a connection lost mid-append is a ConnectionLostError; resending the same events writes them once; the pool recovers', async () => {
    const schema = newSchema();
    const application_name = `${schema}_append`;
    const store = await open(schema, { application_name, max: 2 });
    const stream = 'device/conn';
    await store.appendToStream(stream, [events.enrolled()]);
    // One event without an id: the store generates it, and the error carries it for the retry.
    const { id: _none, ...withoutId } = events.assessed(false, undefined, ['vbs: off']);
    const batch: NewEvent[] = [events.assessed(), withoutId];

    // A test transaction holds the log head, so the append stops at its last statement, its rows written and
    // uncommitted; then its backend is terminated.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`SELECT position FROM "${schema}".log_head FOR UPDATE`);
    const pending = store.appendToStream(stream, batch).catch((e: unknown) => e);
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      const { rows } = await admin().query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [application_name]);
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((ok) => setTimeout(ok, 10));
    }
    expect(pid).toBeDefined();
    await admin().query('SELECT pg_terminate_backend($1)', [pid]);
    const error = await pending;
    await blocker.query('ROLLBACK');
    await blocker.end();

    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', operation: 'append', stream });
    expect((error as ConnectionLostError).cause).toMatchObject({ code: '57P01' });
    expect(await store.streamVersion(stream)).toBe(1);
    const resend = (error as ConnectionLostError).events!;
    expect(resend.map((e) => e.id)).toEqual([batch[0]!.id, expect.stringMatching(/^[0-9a-f-]{36}$/)]);

    // The retry writes the batch once; a second retry is recognised as one.
    const retried = await store.appendToStream(stream, resend);
    expect(retried).toMatchObject({ written: true, versions: [2, 3] });
    expect(await store.appendToStream(stream, resend)).toEqual({ ...retried, written: false });
    const read = await store.readStream(stream);
    expect(read.map((e) => e.id)).toEqual([read[0]!.id, ...resend.map((e) => e.id)]);
    expect(verifyTimeline({ events: await store.readAll() }).problems).toEqual([]);

    // The same store object goes on working.
    const more = await Promise.all(Array.from({ length: 5 }, (_, i) => store.appendToStream(`device/conn-${i}`, [events.enrolled(), events.assessed()])));
    expect(more.every((r) => r.written)).toBe(true);
    expect((await store.readAll()).map((e) => e.position)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    await store.close();
  });
});
