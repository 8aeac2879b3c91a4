/**
 * A database that stops answering without closing its connections (a network that drops packets), through a TCP
 * proxy in the test that black-holes: every call ends within its bound with ConnectionLostError naming the operation
 * and the server, nothing is written twice or lost, and the store serves again once bytes flow.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { events } from '@hotpatch/store/conformance';
import { DatabaseBusyError, LeaseLostError, type NewEvent } from '@hotpatch/store';
import { createPostgresEventStore, type PostgresEventStoreOptions } from './postgres-store.js';
import { ConnectionLostError } from './errors.js';
import { createLeaseKeeper } from './lease-keeper.js';
import { admin, dropAll, newSchema, url } from '../test/helpers.js';
import { startTcpProxy, within, type TcpProxy } from '../test/tcp-proxy.js';

const QUERY_MS = 400;
const CONNECT_MS = 400;
/** The bound a call must end within: silence, then a probe that does not answer, and room for a loaded machine. */
const BOUND_MS = QUERY_MS * 2 + CONNECT_MS + 1_500;

let proxy: TcpProxy;
const opened: Array<{ close(): Promise<void> }> = [];
const open = async (schema: string, options: Partial<PostgresEventStoreOptions> = {}) => {
  proxy ??= await startTcpProxy({ host: new URL(url!).hostname, port: Number(new URL(url!).port || 5432) });
  const store = await createPostgresEventStore({ connectionString: proxy.url(url!), schema, max: 4, queryTimeoutMs: QUERY_MS, connectTimeoutMs: CONNECT_MS, ...options });
  opened.push(store);
  return store;
};
const count = async (schema: string, id: string) => Number((await admin().query(`SELECT count(*) AS n FROM "${schema}".events WHERE id = $1`, [id])).rows[0].n);
const lost = (outcome: Awaited<ReturnType<typeof within>>): ConnectionLostError => {
  expect(outcome, 'the call is still waiting on a silent socket').not.toBe('pending');
  const error = (outcome as { error?: unknown }).error;
  expect(error, `expected ConnectionLostError, got ${String((outcome as { value?: unknown }).value ?? error)}`).toBeInstanceOf(ConnectionLostError);
  return error as ConnectionLostError;
};

describe.skipIf(!url)('PostgreSQL store over a network that drops packets', () => {
  afterEach(async () => {
    proxy?.forward();
    // A store whose connections lost bytes closes at once: close() waits for nothing still on a silent socket.
    await Promise.all(opened.splice(0).map((s) => within(5_000, s.close())));
  });
  afterAll(async () => {
    await proxy?.close();
    await dropAll();
  });

  it('ends an append, a read, readState and a new connection within the bound (ConnectionLostError naming the operation and the server), then serves again', async () => {
    const schema = newSchema();
    const store = await open(schema);
    await store.appendToStream('device/a', [events.enrolled()]);
    proxy.blackhole();
    const started = Date.now();
    const [append, read, all, state] = await Promise.all([
      within(BOUND_MS, store.appendToStream('device/a', [events.assessed()], { expectedVersion: 1 })),
      within(BOUND_MS, store.readStream('device/a')),
      within(BOUND_MS, store.readAll({ fromPosition: 1 })),
      within(BOUND_MS, store.readState('device/a')),
    ]);
    const appendError = lost(append);
    expect(appendError.operation).toBe('append');
    expect(appendError.message).toMatch(/^PostgreSQL connection lost during append on device\/a: PostgreSQL database \S+ at 127\.0\.0\.1:\d+ as \S+ did not answer/);
    expect(appendError.message).not.toContain('\n');
    expect(appendError.events).toHaveLength(1);
    expect(lost(read).operation).toBe('readStream');
    expect(lost(all).operation).toBe('readAll');
    expect(lost(state).operation).toBe('readState');
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
    // Every connection of the pool is silent now: a call needs a new one, which does not answer either.
    const again = lost(await within(BOUND_MS, store.streamVersion('device/a')));
    expect(again.message).toMatch(/did not answer/);

    proxy.forward();
    // The append whose answer never came is sent again as it was: written once.
    const retried = await store.appendToStream('device/a', appendError.events as NewEvent[], { expectedVersion: 1 });
    expect(retried.nextExpectedVersion).toBe(2);
    expect(await count(schema, appendError.events![0]!.id!)).toBe(1);
    expect((await store.readStream('device/a')).map((e) => e.version)).toEqual([1, 2]);
  });

  it('an append whose commit was applied but whose answer was dropped: ConnectionLostError, and the same events again are recorded once', async () => {
    const schema = newSchema();
    const store = await open(schema);
    await store.appendToStream('device/b', [events.enrolled()]);
    proxy.blackhole('answers');
    const error = lost(await within(BOUND_MS, store.appendToStream('device/b', [events.assessed()], { expectedVersion: 1 })));
    expect(error.message).toContain('may or may not have been committed');
    const id = error.events![0]!.id!;
    expect(await count(schema, id)).toBe(1);
    proxy.forward();
    const retried = await store.appendToStream('device/b', error.events as NewEvent[], { expectedVersion: 1 });
    expect(retried.nextExpectedVersion).toBe(2);
    expect(await count(schema, id)).toBe(1);
  });

  for (const hole of ['answers', 'both'] as const) {
    it(`a batch commit whose answer never came (${hole === 'answers' ? 'applied, the answer dropped' : 'never arrived'}): 'batch commit' lost, and the same batch again writes everything once`, async () => {
      const schema = newSchema();
      const store = await open(schema, { idleInTransactionTimeoutMs: 500 });
      const batch: NewEvent[][] = Array.from({ length: 3 }, () => [events.enrolled(), events.assessed()].map((e) => ({ ...e, id: crypto.randomUUID() })));
      const run = (cut: boolean) =>
        store.batch(async () => {
          for (const [d, evs] of batch.entries()) await store.appendToStream(`device/c${d}`, evs);
          // A read writes the buffered rows first: the commit is the batch's one statement left.
          await store.readStream('device/c0');
          if (cut) proxy.blackhole(hole);
        });
      const error = lost(await within(BOUND_MS, run(true)));
      expect(error.operation).toBe('batch commit');
      expect(error.message).toContain('run it again with the same ids');
      proxy.forward();
      // The server ends a transaction it never saw the end of (idle in transaction); then the batch runs again.
      await run(false);
      for (const [d, evs] of batch.entries()) {
        expect((await store.readStream(`device/c${d}`)).map((e) => e.id)).toEqual(evs.map((e) => e.id));
        expect(await count(schema, evs[0]!.id!)).toBe(1);
      }
    });
  }

  it('does not cut a statement that runs long at the server (it answers the probe: still working)', async () => {
    const store = await open(newSchema());
    const started = Date.now();
    const { rows } = await store.pool.query<{ ok: number }>('SELECT 1 AS ok FROM pg_sleep($1::float8 / 1000)', [QUERY_MS * 4]);
    expect(rows[0]!.ok).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(QUERY_MS * 4);
  });

  it('waits for a lock longer than the bound (the server says the statement is at work), up to busyTimeoutMs', async () => {
    const schema = newSchema();
    const store = await open(schema, { busyTimeoutMs: QUERY_MS * 5 });
    const other = await createPostgresEventStore({ connectionString: url!, schema, max: 2 });
    opened.push(other);
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    let locked!: () => void;
    const locking = new Promise<void>((ok) => (locked = ok));
    // Another store's batch holds the log head past the bound, then commits: the append waits and goes through.
    const batch = other.batch(async () => {
      await other.appendToStream('device/lock', [events.enrolled()]);
      locked();
      await held;
    });
    await locking;
    const append = store.appendToStream('device/other', [events.enrolled()]);
    setTimeout(release, QUERY_MS * 3);
    await batch;
    expect((await append).nextExpectedVersion).toBe(1);
    // Held past busyTimeoutMs, the wait ends as before: DatabaseBusyError, not a lost connection.
    const longer = other.batch(async () => {
      await other.appendToStream('device/lock', [events.assessed()]);
      await new Promise((ok) => setTimeout(ok, QUERY_MS * 8));
    });
    await new Promise((ok) => setTimeout(ok, 100));
    await expect(store.appendToStream('device/other', [events.assessed()])).rejects.toBeInstanceOf(DatabaseBusyError);
    await longer;
  });

  it('imports a large batch whole with a bound of 50 ms (a long flush or commit is at work, not silent)', async () => {
    const schema = newSchema();
    const store = await open(schema, { queryTimeoutMs: 50, connectTimeoutMs: 2_000 });
    const devices = 2_000;
    await store.batch(async () => {
      for (let d = 0; d < devices; d++) await store.appendToStream(`device/import-${d}`, [events.enrolled(), events.assessed(), events.assessed(), events.assessed(), events.assessed()]);
    });
    expect(Number((await admin().query(`SELECT count(*) AS n FROM "${schema}".events`)).rows[0].n)).toBe(devices * 5);
  });

  it('an instance cut off keeps no lease past its term: its fence lapses, its fenced batch fails, another takes over; once back, its rounds go on', async () => {
    const schema = newSchema();
    const cutOff = await open(schema);
    const other = await createPostgresEventStore({ connectionString: url!, schema, max: 2 });
    opened.push(other);
    const ttlMs = 1_500;
    const names = () => ['orchestrator/t'];
    const errors: unknown[] = [];
    const a = createLeaseKeeper({ leases: cutOff.leases({ owner: 'a', ttlMs }), names, onError: (e) => void errors.push(e) });
    const b = createLeaseKeeper({ leases: other.leases({ owner: 'b', ttlMs }), names });
    await a.round();
    const fence = a.fence('orchestrator/t')!;
    expect(fence.owner).toBe('a');

    proxy.blackhole();
    const cutAt = Date.now();
    // A round ends (with the store's error), it does not hang: the next rounds run.
    expect(await within(BOUND_MS, a.round())).toEqual({ value: undefined });
    expect(errors.at(-1)).toBeInstanceOf(ConnectionLostError);
    lost(await within(BOUND_MS, cutOff.fencedBatch(fence, () => cutOff.appendToStream('device/fenced', [events.enrolled()]))));
    await new Promise((ok) => setTimeout(ok, Math.max(0, ttlMs - (Date.now() - cutAt))));
    expect(a.fence('orchestrator/t')).toBeUndefined();
    await b.round();
    await b.round();
    expect(b.fence('orchestrator/t')?.epoch).toBeGreaterThan(fence.epoch);

    proxy.forward();
    await a.round();
    expect((await other.leases({ owner: 'b', ttlMs }).live('instance/')).map((l) => l.owner).sort()).toEqual(['a', 'b']);
    // Its old fence is refused now that it can reach the database again; nothing of it in the log.
    await expect(cutOff.fencedBatch(fence, () => cutOff.appendToStream('device/fenced', [events.enrolled()]))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await other.streamVersion('device/fenced')).toBe(0);
    await Promise.all([a.stop(), b.stop()]);
  });
});
