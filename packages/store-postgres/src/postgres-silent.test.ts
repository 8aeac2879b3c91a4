/**
 * A database that stops answering without closing its connections (a network that drops packets), through a TCP
 * proxy in the test that black-holes: every call ends within its bound with ConnectionLostError naming the operation
 * and the server, nothing is written twice or lost, and the store serves again once bytes flow.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { events } from '@hotpatch/store/conformance';
import type { NewEvent } from '@hotpatch/store';
import { createPostgresEventStore, type PostgresEventStoreOptions } from './postgres-store.js';
import { ConnectionLostError } from './errors.js';
import { admin, dropAll, newSchema, url } from '../test/helpers.js';
import { startBlackHoleProxy, within, type BlackHoleProxy } from '../test/blackhole-proxy.js';

const QUERY_MS = 400;
const CONNECT_MS = 400;
/** The bound a call must end within: silence, then a probe that does not answer, and room for a loaded machine. */
const BOUND_MS = QUERY_MS * 2 + CONNECT_MS + 1_500;

let proxy: BlackHoleProxy;
const opened: Array<{ close(): Promise<void> }> = [];
const open = async (schema: string, options: Partial<PostgresEventStoreOptions> = {}) => {
  proxy ??= await startBlackHoleProxy({ host: new URL(url!).hostname, port: Number(new URL(url!).port || 5432) });
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
});
