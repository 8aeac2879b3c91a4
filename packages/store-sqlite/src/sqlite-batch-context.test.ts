/**
 * Which batch the running code is inside is kept in one AsyncLocalStorage for every store of the process. Node 20 makes
 * every promise created pay for each AsyncLocalStorage ever run (closing a store cannot undo it): with one per store, a
 * process that opened and closed many stores (the interleaving harness: two thousand) became slower at every await.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, expect, it, vi } from 'vitest';
import { deviceStream } from '@hotpatch/core';
import { events } from '@hotpatch/store/conformance';
import { openSqliteEventStore } from './sqlite-store.js';

afterEach(() => vi.restoreAllMocks());

/** Opens a store, appends in a batch, closes it. */
async function useAStore(): Promise<void> {
  const store = openSqliteEventStore({ path: ':memory:' });
  await store.batch(() => store.appendToStream(deviceStream('d-context'), [events.enrolled()]));
  await store.close();
}

// Node 20's AsyncLocalStorage calls its `_propagate` once per storage in use for each promise created; a later Node
// keeps the context otherwise (no such method), where there is nothing to count.
const propagate = (AsyncLocalStorage.prototype as unknown as { _propagate?: unknown })._propagate;

it.skipIf(typeof propagate !== 'function')('stores opened and closed add nothing to what each later promise costs', async () => {
  const spy = vi.spyOn(AsyncLocalStorage.prototype as unknown as { _propagate: () => void }, '_propagate');
  const perPromise = () => {
    const before = spy.mock.calls.length;
    void new Promise<void>(() => {});
    return spy.mock.calls.length - before;
  };
  await useAStore();
  const first = perPromise();
  for (let i = 0; i < 10; i++) await useAStore();
  expect(perPromise()).toBe(first);
});

it("a batch of one store inside another's batch is still inside the first (its calls do not wait for it)", async () => {
  const a = openSqliteEventStore({ path: ':memory:' });
  const b = openSqliteEventStore({ path: ':memory:' });
  const stream = deviceStream('d-nested');
  await a.batch(() => b.batch(() => a.appendToStream(stream, [events.enrolled()])));
  expect(await a.streamVersion(stream)).toBe(1);
  await Promise.all([a.close(), b.close()]);
});
