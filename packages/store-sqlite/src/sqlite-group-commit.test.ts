/**
 * Group commit (`durability: 'group'`, group-sync.ts): the store's contract as every store keeps it, and the one thing
 * it adds — nothing is answered before the WAL is synced past it. The sync itself is the real fdatasync; these tests
 * hold it back (or fail it) through `syncWal` to see who waits for it.
 */
import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, InvalidStoreOptionsError } from '@hotpatch/store';
import { describeEventStoreConformance } from '@hotpatch/store/conformance';
import { fdatasyncFile } from './group-sync.js';
import { openSqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-group-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let n = 0;

describeEventStoreConformance('SQLite, group commit', async () => {
  const path = join(dir, `conformance-${++n}.db`);
  const store = openSqliteEventStore({ path, durability: 'group' });
  return { store, reopen: async () => openSqliteEventStore({ path, durability: 'group' }), cleanup: () => store.close() };
});

const enrolled = (id = 'e') => ({ type: 'DeviceEnrolled', time: '2026-01-05T08:00:00.000Z', data: { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' }, meta: { id } });

/** A store whose WAL syncs wait until `release()` (each then runs the real fdatasync), counting them. */
function heldStore() {
  const path = join(dir, `held-${++n}.db`);
  let gates: Array<() => void> = [];
  const state = { syncs: 0, fail: undefined as Error | undefined };
  const store = openSqliteEventStore({
    path,
    durability: 'group',
    syncWal: async (wal) => {
      await new Promise<void>((go) => gates.push(go));
      state.syncs++;
      if (state.fail) throw state.fail;
      await fdatasyncFile(wal);
    },
  });
  const release = () => {
    const now = gates;
    gates = [];
    for (const go of now) go();
  };
  return { path, store, state, release, pending: () => gates.length };
}

/** Whether a promise has settled after the turns in flight have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((ok) => setTimeout(ok, 20));
  return done;
}

describe('SQLite group commit', () => {
  it('answers an append, and a read outside a batch, only once the WAL is synced past what it wrote or saw', async () => {
    const { store, release, pending, state } = heldStore();
    const append = store.appendToStream('device/a', [enrolled()]);
    expect(await settled(append)).toBe(false);
    expect(pending()).toBe(1);
    // Committed (another connection sees it), not yet durable: this store's readers wait for the sync.
    const read = store.readStream('device/a');
    const version = store.streamVersion('device/a');
    expect(await settled(read)).toBe(false);
    expect(await settled(version)).toBe(false);
    release();
    expect((await append).nextExpectedVersion).toBe(1);
    expect((await read).map((e) => e.version)).toEqual([1]);
    expect(await version).toBe(1);
    expect(state.syncs).toBe(1);
    // Nothing unsynced: a read is answered at once.
    expect(await settled(store.readStream('device/a'))).toBe(true);
    await store.close();
  });

  it('lets the next batch commit while a sync runs, and answers both after one that covers both', async () => {
    const { store, release, pending, state } = heldStore();
    const first = store.batch(() => store.appendToStream('device/a', [enrolled('1')]));
    await new Promise((ok) => setTimeout(ok, 10));
    expect(pending()).toBe(1);
    // The connection is free again: a second batch runs (its own reads are not held back) and commits.
    const second = store.batch(async () => {
      expect(await store.streamVersion('device/a')).toBe(1);
      return store.appendToStream('device/b', [enrolled('2')]);
    });
    const third = store.appendToStream('device/c', [enrolled('3')]);
    expect(await settled(second)).toBe(false);
    expect(await settled(first)).toBe(false);
    release(); // the first sync: it began before the second and third commits, so it answers only the first
    await first;
    expect(await settled(second)).toBe(false);
    await new Promise((ok) => setTimeout(ok, 10));
    expect(pending()).toBe(1); // one more sync, for both commits made meanwhile
    release();
    await Promise.all([second, third]);
    expect(state.syncs).toBe(2);
    await store.close();
  });

  it('a failed sync fails those waiting and every later call, typed and naming the file; what was committed is there on reopening', async () => {
    const { path, store, release, state } = heldStore();
    state.fail = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const append = store.appendToStream('device/a', [enrolled()]);
    const read = store.readAll();
    release();
    await expect(append).rejects.toThrow(DatabaseUnavailableError);
    await expect(read).rejects.toThrow(/its WAL could not be synced to disk \(EIO: i\/o error, fdatasync\)/);
    await expect(append).rejects.toThrow(path);
    await expect(store.readAll()).rejects.toThrow(DatabaseUnavailableError);
    await expect(store.appendToStream('device/b', [enrolled()])).rejects.toThrow(DatabaseUnavailableError);
    await store.close();
    const again = openSqliteEventStore({ path });
    expect((await again.readAll()).map((e) => e.stream)).toEqual(['device/a']);
    await again.close();
  });

  it('a checkpoint or projection saved outside a batch is answered once synced too', async () => {
    const { store, release } = heldStore();
    const saved = store.saveProjection('p', 1, '{"n":1}');
    expect(await settled(saved)).toBe(false);
    release();
    await saved;
    const checkpoint = store.saveCheckpoint('c', 0, 1);
    expect(await settled(checkpoint)).toBe(false);
    release();
    await checkpoint;
    await store.close();
  });

  it('close waits for the sync in flight, called once or again meanwhile', async () => {
    const { store, release, state } = heldStore();
    const append = store.appendToStream('device/a', [enrolled()]);
    const closing = store.close();
    const again = store.close();
    expect(await settled(closing)).toBe(false);
    expect(await settled(again)).toBe(false);
    release();
    await closing;
    await again;
    expect(store.db.open).toBe(false);
    await append;
    expect(state.syncs).toBe(1);
  });

  it('syncs the WAL SQLite writes: that of the file a symlink names (the link has none beside it)', async () => {
    await mkdir(join(dir, 'real'));
    await mkdir(join(dir, 'links'));
    await symlink(join(dir, 'real', 'linked.db'), join(dir, 'links', 'linked.db'));
    const synced: string[] = [];
    const store = openSqliteEventStore({ path: join(dir, 'links', 'linked.db'), durability: 'group', syncWal: async (wal) => (synced.push(wal), fdatasyncFile(wal)) });
    expect((await store.appendToStream('device/a', [enrolled()])).nextExpectedVersion).toBe(1);
    expect(synced).toEqual([join(await realpath(join(dir, 'real')), 'linked.db-wal')]);
    await store.close();
  });

  it('holds back a refusal as an answer: a conflict naming a version not yet synced waits for its sync', async () => {
    const { store, release } = heldStore();
    const append = store.appendToStream('device/a', [enrolled()]);
    const conflict = store.appendToStream('device/a', [enrolled('2')], { expectedVersion: 0 });
    expect(await settled(conflict)).toBe(false);
    // A batch that fails after reading what is not yet durable is answered after the sync too.
    const batch = store.batch(async () => {
      throw new Error(`saw version ${await store.streamVersion('device/a')}`);
    });
    expect(await settled(batch)).toBe(false);
    release();
    await append;
    await expect(conflict).rejects.toThrow(/expected version 0/i);
    await expect(batch).rejects.toThrow('saw version 1');
    await store.close();
  });

  it('refuses a durability it does not know, by name', () => {
    expect(() => openSqliteEventStore({ path: join(dir, 'x.db'), durability: 'fast' as never })).toThrow(InvalidStoreOptionsError);
    expect(() => openSqliteEventStore({ path: join(dir, 'x.db'), durability: 'fast' as never })).toThrow(/durability must be 'full', 'group' or 'normal', got "fast"/);
  });
});
