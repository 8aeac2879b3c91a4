/**
 * readState at a head whose state this process keeps (a service reads its caller's token at every request): one
 * statement, the head's, and still the log's answer when another handle moved the stream. A call on a free store
 * runs in the caller's turn. A stream it keeps no state for: its head and its snapshot in one statement.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-store.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-sqlite-state-read-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const t = '2026-01-05T08:00:00.000Z';
const issued = { type: 'TokenIssued', time: t, data: { role: 'agent', tenant: 'default', device: 'd1', hash: 'a'.repeat(64) } };
const revoked = { type: 'TokenRevoked', time: t, data: {} };
const paused = { type: 'RingPaused', time: t, data: { by: 'service', reason: 'r' } };
const resumed = { type: 'RingResumed', time: t, data: { by: 'service' } };
const HEAD_AND_SNAPSHOT =
  'SELECT s.version AS version, s.hash AS hash, p.version AS snapshotVersion, p.machine AS machine, p.state AS state FROM (SELECT ? AS stream) AS k LEFT JOIN streams AS s ON s.stream = k.stream LEFT JOIN snapshots AS p ON p.stream = k.stream';

/** The statements (BEGIN and COMMIT included) the store's connection runs while `work` does. */
async function statementsOf(store: SqliteEventStore, work: () => Promise<unknown>): Promise<string[]> {
  const proto = Object.getPrototypeOf(store.db.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>;
  const seen: string[] = [];
  const originals = Object.fromEntries(['run', 'get', 'all', 'iterate'].map((name) => [name, proto[name]!]));
  for (const [name, original] of Object.entries(originals)) {
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      seen.push(this.source);
      return original.apply(this, args);
    };
  }
  try {
    await work();
  } finally {
    Object.assign(proto, originals);
  }
  return seen;
}

describe('SQLite readState at a kept head', () => {
  it('reads only the stream’s head, outside a transaction', async () => {
    const store = openSqliteEventStore({ path: join(dir, 'kept.db') });
    await store.appendToStream('token/0123456789abcdef', [issued]);
    await store.readState('token/0123456789abcdef');
    const seen = await statementsOf(store, async () => expect(await store.readState('token/0123456789abcdef')).toMatchObject({ version: 1, eventsFolded: 0, state: { value: 'issued' } }));
    expect(seen).toEqual(['SELECT version, hash FROM streams WHERE stream = ?']);
    await store.close();
  });

  it('reads a stream it keeps no state for without a transaction: its head and its snapshot in one statement', async () => {
    const store = openSqliteEventStore({ path: join(dir, 'cold.db') });
    await store.appendToStream('token/0123456789abcdef', [issued]);
    await store.close();
    const cold = openSqliteEventStore({ path: join(dir, 'cold.db') });
    const seen = await statementsOf(cold, () => cold.readState('token/0123456789abcdef'));
    // The events up to the head never change, and a snapshot past it is passed over: no BEGIN and COMMIT needed.
    expect(seen).toEqual([HEAD_AND_SNAPSHOT]);
    expect(await cold.readState('token/0123456789abcdef')).toMatchObject({ version: 1, state: { value: 'issued' } });
    await cold.close();
  });

  it('an append to a stream it keeps no state for reads its head and its snapshot in one statement, then only the events past the snapshot', async () => {
    const path = join(dir, 'cold-append.db');
    const store = openSqliteEventStore({ path });
    await store.appendToStream('ring/pilot', [paused, resumed]);
    await store.appendToStream('ring/pilot', [paused]);
    await store.close();
    const cold = openSqliteEventStore({ path });
    const seen = await statementsOf(cold, () => cold.appendToStream('ring/pilot', [resumed], { expectedVersion: 3 }));
    expect(seen.filter((sql) => sql.startsWith('SELECT'))).toEqual([HEAD_AND_SNAPSHOT, 'SELECT position, stream, version, id, type, time, data, meta, hash FROM events WHERE stream = ? AND version >= ? AND version <= ? ORDER BY version']);
    expect(await cold.readState('ring/pilot')).toMatchObject({ version: 4, state: { value: 'open' } });
    await cold.close();
  });

  it('a stream with no events, and one with events but no snapshot, read cold: as read warm', async () => {
    const path = join(dir, 'cold-none.db');
    const store = openSqliteEventStore({ path });
    await store.appendToStream('ring/pilot', [paused]);
    store.db.prepare('DELETE FROM snapshots').run();
    await store.close();
    const cold = openSqliteEventStore({ path });
    expect(await cold.readState('ring/none')).toMatchObject({ version: 0, snapshotVersion: 0, eventsFolded: 0, state: { value: 'open' } });
    expect(await cold.readState('ring/pilot')).toMatchObject({ version: 1, snapshotVersion: 0, eventsFolded: 1, state: { value: 'paused' } });
    await cold.appendToStream('ring/pilot', [resumed], { expectedVersion: 1 });
    expect(await cold.readState('ring/pilot')).toMatchObject({ version: 2, eventsFolded: 0, state: { value: 'open' } });
    await cold.close();
  });

  it('runs a call on a free store in the caller’s turn (no promise waited on first)', async () => {
    const store = openSqliteEventStore({ path: join(dir, 'turn.db') });
    const appended = store.appendToStream('token/0123456789abcdef', [issued]);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 1 });
    await appended;
    // A store closed: the call is refused, as a rejected promise, not a throw.
    await store.close();
    await expect(store.readState('token/0123456789abcdef')).rejects.toThrow(/closed/);
  });

  it('answers with another handle’s revocation at the next read', async () => {
    const path = join(dir, 'moved.db');
    const a = openSqliteEventStore({ path });
    const b = openSqliteEventStore({ path });
    await a.appendToStream('token/0123456789abcdef', [issued]);
    expect((await a.readState('token/0123456789abcdef')).state.value).toBe('issued');
    expect((await b.readState('token/0123456789abcdef')).state.value).toBe('issued');
    await b.appendToStream('token/0123456789abcdef', [revoked]);
    expect(await a.readState('token/0123456789abcdef')).toMatchObject({ version: 2, state: { value: 'revoked' } });
    await Promise.all([a.close(), b.close()]);
  });
});
