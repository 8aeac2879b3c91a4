/**
 * Which batch the running code is inside is kept in one AsyncLocalStorage for every store of the process (batchScope).
 * Node 20 makes every promise created pay for each AsyncLocalStorage ever run (closing a store cannot undo it): with
 * one per store, a process that opened and closed many stores (the interleaving harness: two thousand) became slower
 * at every await.
 */
import { expect, it } from 'vitest';
import { deviceStream } from '@hotpatch/core';
import { asyncContextsPerPromise, events } from '@hotpatch/store/conformance';
import { openSqliteEventStore } from './sqlite-store.js';

/** Opens a store, appends in a batch, closes it. */
async function useAStore(): Promise<void> {
  const store = openSqliteEventStore({ path: ':memory:' });
  await store.batch(() => store.appendToStream(deviceStream('d-context'), [events.enrolled()]));
  await store.close();
}

it.skipIf(asyncContextsPerPromise() === undefined)('stores opened and closed add nothing to what each later promise costs', async () => {
  await useAStore();
  const first = asyncContextsPerPromise();
  for (let i = 0; i < 10; i++) await useAStore();
  expect(asyncContextsPerPromise()).toBe(first);
});

it("a batch of one store inside another's batch is still inside the first (its calls do not wait for it)", async () => {
  const a = openSqliteEventStore({ path: ':memory:' });
  const b = openSqliteEventStore({ path: ':memory:' });
  const stream = deviceStream('d-nested');
  await a.batch(() => b.batch(() => a.appendToStream(stream, [events.enrolled()])));
  expect(await a.streamVersion(stream)).toBe(1);
  await Promise.all([a.close(), b.close()]);
});
