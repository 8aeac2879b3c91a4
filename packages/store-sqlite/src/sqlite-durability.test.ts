/**
 * What only a real file and real processes can show: migrations racing from two processes, two processes writing
 * one file, snapshots rebuilt after a machine change, and appends surviving SIGKILL at random moments.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { seededRandom } from '@hotpatch/core';
import { MigrationRefusedError } from '@hotpatch/store';
import { verifyTimeline } from '@hotpatch/replay';
import { openSqliteEventStore } from './sqlite-store.js';
import { migrate, MIGRATIONS } from './migrations.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const writer = join(here, '../test/writer.mjs');
const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-durability-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const run = promisify(execFile);

// The child processes run the built package (built once for every test: test/build.global.ts).

const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64' as const, vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const t = '2026-01-05T08:00:00.000Z';
/** A device's first five events: enrolled, assessed, staged, applying, applied. */
const history = [
  { type: 'DeviceEnrolled', time: t, data: { ...profile, ring: 'pilot', baseline: 'B1' } },
  { type: 'EligibilityAssessed', time: t, data: { eligible: true, reasons: [] } },
  { type: 'PatchStaged', time: t, data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true } },
  { type: 'PatchApplyStarted', time: t, data: { patch: 'P1' } },
  { type: 'PatchApplied', time: t, data: { patch: 'P1' } },
];

describe('SQLite migrations', () => {
  it('are applied once, and running them again changes nothing', () => {
    const db = new Database(join(dir, 'migrate.db'));
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db)).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  it('are safe from several processes opening a new database at once', async () => {
    const path = join(dir, 'race.db');
    const script = `import { openSqliteEventStore } from ${JSON.stringify(join(root, 'packages/store-sqlite/dist/index.js'))}; const s = openSqliteEventStore({ path: ${JSON.stringify(path)} }); await s.close();`;
    await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script])));
    const db = new Database(path);
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
    db.close();
  });

  it('4 makes ids unique across the log, and refuses a log that holds one id twice, naming it, changing nothing', () => {
    const before4 = MIGRATIONS.filter((m) => m.version < 4);
    const insert = "INSERT INTO events (stream, version, id, type, time, data, hash) VALUES (?, 1, ?, 'DeviceEnrolled', 't', '{}', 'h')";
    const id = '0193f2a0-0000-7000-8000-000000000001';
    // A database written by an earlier build: ids unique per stream only, one of them in two streams.
    const twice = new Database(join(dir, 'id-twice.db'));
    expect(migrate(twice, before4)).toEqual([1, 2, 3]);
    twice.prepare(insert).run('device/a', id);
    twice.prepare(insert).run('device/b', id);
    expect(() => migrate(twice)).toThrow(MigrationRefusedError);
    expect(() => migrate(twice)).toThrow(new RegExp(`migration 4 refused, nothing was changed: .*${id} \\(device/a v1, device/b v1\\)`));
    expect(twice.prepare('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: 3 });
    expect(twice.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'events_%' ORDER BY name").pluck().all()).toEqual(['events_stream_id', 'events_stream_version']);
    expect(twice.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(2);
    twice.close();
    // The same without the copy: migrated, and the index refuses the copy from then on.
    const once = new Database(join(dir, 'id-once.db'));
    migrate(once, before4);
    once.prepare(insert).run('device/a', id);
    expect(migrate(once)).toEqual([4]);
    expect(once.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'events_%' ORDER BY name").pluck().all()).toEqual(['events_id', 'events_stream_version']);
    expect(() => once.prepare(insert).run('device/b', id)).toThrow(/UNIQUE constraint failed: events\.id/);
    once.close();
  });

  it('refuse a database from a newer build', () => {
    const db = new Database(join(dir, 'newer.db'));
    migrate(db);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 'x')").run();
    expect(() => migrate(db)).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW', message: expect.stringMatching(/schema is at version 99, newer than this build knows/) }));
    db.close();
  });
});

describe('SQLite batches', () => {
  it('one commit for many appends, seen by another process only once committed', async () => {
    const path = join(dir, 'batch.db');
    const store = openSqliteEventStore({ path });
    const other = openSqliteEventStore({ path });
    await store.batch(async () => {
      await store.appendToStream('device/b1', history.slice(0, 2));
      await store.appendToStream('device/b2', history.slice(0, 2));
      expect(await other.streamVersion('device/b1')).toBe(0); // not committed yet
    });
    expect(await other.streamVersion('device/b1')).toBe(2);
    expect(await other.streamVersion('device/b2')).toBe(2);
    await Promise.all([store.close(), other.close()]);
  });

  it('an append that fails after its rows went in (an I/O error) poisons the batch: nothing of it commits', async () => {
    const path = join(dir, 'poison.db');
    const store = openSqliteEventStore({ path });
    // Fail the stream-head write of one stream, after its event row was inserted, as a full disk would.
    store.db.exec(`CREATE TRIGGER fail_head BEFORE INSERT ON streams WHEN NEW.stream = 'device/poison' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const outcome = store.batch(async () => {
      await store.appendToStream('device/fine', history.slice(0, 1));
      const error = await store.appendToStream('device/poison', history.slice(0, 1)).catch((e: unknown) => e);
      expect(String(error)).toMatch(/disk full/);
      // The caller carries on regardless; the store does not: the batch refuses more and will not commit.
      await expect(store.appendToStream('device/fine', history.slice(1, 2))).rejects.toThrow(/disk full/);
    });
    await expect(outcome).rejects.toThrow(/disk full/);
    expect(await store.streamVersion('device/fine')).toBe(0);
    expect(store.db.prepare('SELECT COUNT(*) FROM events').pluck().get()).toBe(0);
    // And the store works on.
    store.db.exec('DROP TRIGGER fail_head');
    await store.appendToStream('device/poison', history.slice(0, 1));
    expect(await store.streamVersion('device/poison')).toBe(1);
    await store.close();
  });
});

describe('SQLite snapshots', () => {
  it('read a device from its latest snapshot, not its whole history', async () => {
    const store = openSqliteEventStore({ path: join(dir, 'snap.db') });
    await store.appendToStream('device/s', history);
    expect(await store.readState('device/s')).toMatchObject({ version: 5, snapshotVersion: 5, eventsFolded: 0, state: { value: 'applied' } });
    // Wind the snapshot back to version 3: only the two events after it are folded.
    const atThree = JSON.parse(store.db.prepare('SELECT state FROM snapshots WHERE stream = ?').pluck().get('device/s') as string);
    atThree.value = 'staged';
    atThree.context = { ...atThree.context, applied: {} };
    store.db.prepare('UPDATE snapshots SET version = 3, state = ? WHERE stream = ?').run(JSON.stringify(atThree), 'device/s');
    // This handle remembers the state it last folded; another process has only the database to go by.
    const other = openSqliteEventStore({ path: join(dir, 'snap.db') });
    expect(await other.readState('device/s')).toMatchObject({ version: 5, snapshotVersion: 3, eventsFolded: 2, state: { value: 'applied', context: { applied: { P1: [] } } } });
    await other.close();
    await store.close();
  });

  it('one-event appends keep the snapshot at most 8 versions behind, so a cold read folds at most 8 events', async () => {
    const path = join(dir, 'every.db');
    const store = openSqliteEventStore({ path });
    await store.appendToStream('device/e', history.slice(0, 2));
    for (let i = 0; i < 20; i++) await store.appendToStream('device/e', [{ type: 'EligibilityAssessed', time: t, data: { eligible: true, reasons: [] } }]);
    const row = store.db.prepare('SELECT version FROM snapshots WHERE stream = ?').pluck().get('device/e') as number;
    expect(22 - row).toBeLessThan(8);
    const cold = openSqliteEventStore({ path });
    const read = await cold.readState('device/e');
    expect(read).toMatchObject({ version: 22, snapshotVersion: row, eventsFolded: 22 - row, state: { value: 'current' } });
    await Promise.all([store.close(), cold.close()]);
  });

  it('a state remembered in memory is used only while the stream has not moved (another process appends)', async () => {
    const path = join(dir, 'recent.db');
    const a = openSqliteEventStore({ path });
    const b = openSqliteEventStore({ path });
    await a.appendToStream('device/r', history.slice(0, 4));
    expect(await a.readState('device/r')).toMatchObject({ version: 4, eventsFolded: 0, state: { value: 'applying' } });
    await b.appendToStream('device/r', history.slice(4));
    expect(await a.readState('device/r')).toMatchObject({ version: 5, state: { value: 'applied' } });
    // And a's next append decides on b's event, not on what a remembered.
    await a.appendToStream('device/r', [{ type: 'PatchVerified', time: t, data: { patch: 'P1' } }]);
    expect((await b.readState('device/r')).state.value).toBe('verified');
    await Promise.all([a.close(), b.close()]);
  });

  it('keeps the states of at most stateCacheSize streams, giving recently used ones a second chance', async () => {
    const store = openSqliteEventStore({ path: join(dir, 'cache.db'), stateCacheSize: 2 });
    // Each stream: a batch (snapshot at version 2), then one event (no new snapshot): only the cache knows version 3.
    for (const s of ['device/a', 'device/b', 'device/c']) {
      await store.appendToStream(s, history.slice(0, 2));
      await store.appendToStream(s, [history[2]!]);
    }
    // a was the least recently used when c came in: it was folded again from its snapshot; c is still known.
    expect(await store.readState('device/a')).toMatchObject({ version: 3, eventsFolded: 1 });
    expect(await store.readState('device/c')).toMatchObject({ version: 3, eventsFolded: 0 });
    await store.close();
    const none = openSqliteEventStore({ path: join(dir, 'cache.db'), stateCacheSize: 0 });
    await none.appendToStream('device/c', [history[3]!]);
    await none.appendToStream('device/c', [history[4]!]);
    expect(await none.readState('device/c')).toMatchObject({ version: 5, eventsFolded: 3 });
    await none.close();
    expect(() => openSqliteEventStore({ path: join(dir, 'cache.db'), stateCacheSize: -1 })).toThrow(/stateCacheSize/);
  });

  it('ignore a snapshot written by another version of the machine, and rebuild it', async () => {
    const path = join(dir, 'machine.db');
    const old = openSqliteEventStore({ path, machineFingerprint: 'an-older-lifecycle' });
    await old.appendToStream('device/m', history);
    // The old build's snapshot says something this machine would not: it must not be trusted.
    old.db.prepare("UPDATE snapshots SET state = json_set(state, '$.value', 'retired')").run();
    await old.close();
    const store = openSqliteEventStore({ path });
    expect(await store.readState('device/m')).toMatchObject({ snapshotVersion: 0, eventsFolded: 5, state: { value: 'applied' } });
    expect(await store.readState('device/m')).toMatchObject({ snapshotVersion: 5, eventsFolded: 0, state: { value: 'applied' } });
    // And appends decide on the rebuilt state.
    await store.appendToStream('device/m', [{ type: 'PatchVerified', time: t, data: { patch: 'P1' } }]);
    expect((await store.readState('device/m')).state.value).toBe('verified');
    await store.close();
  });
});

function collectAcks(child: ReturnType<typeof spawn>) {
  const acks: Array<{ stream: string; version: number; batch: string; size: number }> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const [word, stream, version, batch, size] = line.split(' ');
      if (word === 'ack') acks.push({ stream: stream!, version: Number(version), batch: batch!, size: Number(size) });
    }
  });
  return acks;
}

async function checkDatabase(path: string, acks: ReadonlyArray<{ stream: string; version: number; batch: string; size: number }>) {
  const store = openSqliteEventStore({ path });
  const events = await store.readAll();
  // Every acknowledged append is there.
  const versions = new Map<string, number>();
  for (const e of events) versions.set(e.stream, e.version);
  for (const ack of acks) expect(versions.get(ack.stream) ?? 0).toBeGreaterThanOrEqual(ack.version);
  const batches = new Map<string, number>();
  for (const e of events) batches.set(String(e.meta?.batch), (batches.get(String(e.meta?.batch)) ?? 0) + 1);
  for (const ack of acks) expect(batches.get(ack.batch)).toBe(ack.size);
  // No batch is half written.
  for (const e of events) expect(batches.get(String(e.meta?.batch))).toBe(e.meta?.size);
  // Positions are contiguous, and the log verifies: versions, ids, hashes, transitions.
  expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1));
  const report = verifyTimeline({ events });
  expect(report.problems.map((p) => p.message)).toEqual([]);
  expect((store.db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check).toBe('ok');
  await store.close();
  return events.length;
}

describe('SQLite under real processes', () => {
  it('two processes append to one file, waiting for each other’s write lock', async () => {
    const path = join(dir, 'two-writers.db');
    const children = [1, 2].map((seed) => spawn(process.execPath, [writer, path, String(seed), '6', '150'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const acks = children.map(collectAcks);
    await Promise.all(children.map((c) => new Promise((ok, fail) => c.on('exit', (code) => (code === 0 ? ok(code) : fail(new Error(`writer exited ${code}`)))))));
    expect(acks[0]).toHaveLength(150);
    expect(acks[1]).toHaveLength(150);
    await checkDatabase(path, [...acks[0]!, ...acks[1]!]);
  });

  it('opens a new file from many processes at once: each waits for the others instead of failing busy', async () => {
    // Switching a new file to WAL needs a lock SQLite does not wait for (it answers SQLITE_BUSY at once): the store
    // retries it within its busy timeout. Eight writers race to create the same file, four times over.
    for (let round = 0; round < 4; round++) {
      const path = join(dir, `race-${round}.db`);
      // Every writer opens the file at the same moment, once all of them have started.
      const env = { ...process.env, HOTPATCH_START_AT: String(Date.now() + 1_500) };
      const children = Array.from({ length: 8 }, (_, i) => spawn(process.execPath, [writer, path, String(i + 1), '4', '3'], { stdio: ['ignore', 'pipe', 'pipe'], env }));
      const acks = children.map(collectAcks);
      const errors = children.map((c) => {
        let text = '';
        c.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
        return () => text;
      });
      const codes = await Promise.all(children.map((c) => new Promise<number | null>((ok) => c.on('exit', ok))));
      expect(codes.map((code, i) => (code === 0 ? 0 : errors[i]!()))).toEqual(children.map(() => 0));
      await checkDatabase(path, acks.flat());
    }
  });

  it.each([['full', 20], ['group', 10]] as const)('keeps every acknowledged append and no half batch across SIGKILLs at random moments (durability %s, %i kills)', async (durability, kills) => {
    const path = join(dir, `crash-${durability}.db`);
    const random = seededRandom(7);
    const acks: Array<{ stream: string; version: number; batch: string; size: number }> = [];
    let lastCount = 0;
    for (let round = 0; round < kills; round++) {
      const child = spawn(process.execPath, [writer, path, String(round + 1), '12'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HOTPATCH_DURABILITY: durability } });
      const roundAcks = collectAcks(child);
      // Wait until it is writing, then kill it without warning somewhere in its loop.
      await new Promise<void>((ok) => child.stdout!.once('data', () => ok()));
      await new Promise((ok) => setTimeout(ok, random.int(5, 120)));
      child.kill('SIGKILL');
      await new Promise((ok) => child.on('exit', ok));
      acks.push(...roundAcks);
      const count = await checkDatabase(path, acks);
      expect(count).toBeGreaterThan(lastCount);
      lastCount = count;
    }
  });
});
