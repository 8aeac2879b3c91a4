import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, scopeStore, type NewEvent, type RecordedEvent } from '@hotpatch/store';
import { tapStore } from './store-tap.js';

const pause = (ring: string): [string, NewEvent[]] => [`ring/${ring}`, [{ type: 'RingPaused', time: '2026-02-12T09:00:00.000Z', data: { by: 'tenant', reason: 'freeze' } }]];

describe('a tapped store', () => {
  it('gives every event of the log once, in log order: appended through it, or written by another and read through it', async () => {
    const store = createInMemoryEventStore();
    const seen: RecordedEvent[] = [];
    const tapped = tapStore(store, (e) => seen.push(e));
    await tapped.appendToStream(...pause('a'));
    // Another writer: seen when a reader reads it, from where it was not seen (a read from further on is no help)…
    await store.appendToStream(...pause('b'));
    await store.appendToStream(...pause('c'));
    await tapped.readAll({ fromPosition: 3 });
    expect(seen.map((e) => e.position)).toEqual([1]);
    await tapped.readAll();
    await tapped.readAll({ fromPosition: 2 });
    // …or when an append through it is recorded after it: what lies between is read then.
    await store.appendToStream(...pause('d'));
    await tapped.appendToStream(...pause('e'));
    expect(seen.map((e) => [e.position, e.stream])).toEqual([
      [1, 'ring/a'],
      [2, 'ring/b'],
      [3, 'ring/c'],
      [4, 'ring/d'],
      [5, 'ring/e'],
    ]);
  });

  it('over a tenant’s view of a store other tenants write to: the tenant’s events, once each, in log order', async () => {
    const store = createInMemoryEventStore();
    const seen: RecordedEvent[] = [];
    const tapped = tapStore(scopeStore(store, 'acme'), (e) => seen.push(e));
    await scopeStore(store, 'globex').appendToStream(...pause('a'));
    await tapped.appendToStream(...pause('a'));
    await scopeStore(store, 'globex').appendToStream(...pause('b'));
    await scopeStore(store, 'acme').appendToStream(...pause('b'));
    await tapped.appendToStream(...pause('c'));
    await tapped.readAll();
    expect(seen.map((e) => [e.position, e.stream])).toEqual([
      [2, 'ring/a'],
      [4, 'ring/b'],
      [5, 'ring/c'],
    ]);
  });

  it('groups writes where the store does', async () => {
    const store = createInMemoryEventStore();
    const batches: number[] = [];
    const grouping = { ...store, batch: <T>(fn: () => Promise<T>) => (batches.push(1), fn()) };
    const tapped = tapStore(grouping, () => {});
    expect(await tapped.batch!(async () => 'done')).toBe('done');
    expect(batches).toHaveLength(1);
    expect(tapStore({ ...store, batch: undefined }, () => {}).batch).toBeUndefined();
  });
});
