/**
 * An exclusive consumer that loses PostgreSQL: its lock's connection is gone with the rest, so another instance may
 * take over. The README promises ConsumerLockLostError; a read failing first used to stop it with ConnectionLostError.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { events } from '@hotpatch/store/conformance';
import { createPostgresEventStore } from './postgres-store.js';
import { ConsumerLockLostError } from './errors.js';
import { admin, dropAll, newSchema, url } from '../test/helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!url)('an exclusive PostgreSQL consumer', () => {
  afterAll(dropAll);

  it('stops with ConsumerLockLostError when its read fails first, as PostgreSQL goes away under it', async () => {
    const application_name = `hotpatch-test-${randomBytes(4).toString('hex')}`;
    const store = await createPostgresEventStore({ connectionString: url!, schema: newSchema(), max: 2, application_name });
    try {
      await store.appendToStream('device/c1', [events.enrolled()]);
      const sub = store.subscribe('lossy', () => {}, { exclusive: true, pollIntervalMs: 20 });
      await sub.waitFor(1);
      // The consumer's next read is the one that finds the server gone: every connection of the store ends, and the
      // read fails with the connection error before the lock's connection has said anything.
      const query = store.pool.query.bind(store.pool) as (...args: unknown[]) => Promise<unknown>;
      let armed = true;
      (store.pool as unknown as { query: unknown }).query = async (...args: unknown[]) => {
        if (!armed) return query(...args);
        armed = false;
        await admin().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [application_name]);
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
      };
      await store.appendToStream('device/c2', [events.enrolled()]);
      const stopped = await Promise.race([sub.done.then(() => 'ended', (e: unknown) => e), sleep(5_000).then(() => 'still running')]);
      expect(stopped).toBeInstanceOf(ConsumerLockLostError);
    } finally {
      await store.close();
    }
  });

  for (const lost of ['every connection of the store (the server restarted)', 'only its lock’s connection'] as const) {
    it(`stops with ConsumerLockLostError when it loses ${lost}`, async () => {
      // A name of its own, to end this store's connections and no one else's.
      const application_name = `hotpatch-test-${randomBytes(4).toString('hex')}`;
      const store = await createPostgresEventStore({ connectionString: url!, schema: newSchema(), max: 2, application_name });
      try {
        await store.appendToStream('device/c1', [events.enrolled()]);
        const seen: number[] = [];
        const sub = store.subscribe('lossy', (event) => void seen.push(event.position), { exclusive: true, pollIntervalMs: 20 });
        await sub.waitFor(1);
        const onlyLock = lost === 'only its lock’s connection';
        await admin().query(
          `SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a
            WHERE a.application_name = $1 AND ($2::boolean = false OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted))`,
          [application_name, onlyLock],
        );
        const stopped = await Promise.race([sub.done.then(() => 'ended', (e: unknown) => e), sleep(5_000).then(() => 'still running')]);
        expect(stopped).toBeInstanceOf(ConsumerLockLostError);
        expect(stopped).toMatchObject({ code: 'CONSUMER_LOCK_LOST', consumer: 'lossy' });
        expect(seen).toEqual([1]);
      } finally {
        await store.close();
      }
    });
  }
});
