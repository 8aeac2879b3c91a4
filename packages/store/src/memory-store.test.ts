import { describeEventStoreConformance, scopedUnderTest } from './conformance.js';
import { createInMemoryEventStore, createPackedInMemoryEventStore } from './memory-store.js';
import { readLog } from './types.js';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from './types.js';

describeEventStoreConformance('in-memory', async () => {
  const store = createInMemoryEventStore();
  return { store, cleanup: () => store.close() };
});

describeEventStoreConformance('in-memory, packed', async () => {
  const store = createPackedInMemoryEventStore();
  return { store, cleanup: () => store.close() };
});

describeEventStoreConformance('in-memory, tenant "acme"’s view', scopedUnderTest(async () => {
  const store = createInMemoryEventStore();
  return { store, cleanup: () => store.close() };
}, 'acme'));

describeEventStoreConformance('in-memory, packed, the default tenant’s view', scopedUnderTest(async () => {
  const store = createPackedInMemoryEventStore();
  return { store, cleanup: () => store.close() };
}, 'default'));

const enrolled = (device: string, id?: string): NewEvent => ({
  ...(id !== undefined ? { id } : {}),
  type: 'DeviceEnrolled',
  time: '2026-01-01T00:00:00.000Z',
  data: { edition: 'E', build: '1', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: true, ring: 'r', baseline: 'B' },
});
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe.each([
  ['objects', createInMemoryEventStore],
  ['packed', createPackedInMemoryEventStore],
] as const)('in-memory store (%s)', (_, create) => {
  it('returns frozen events, so a reader cannot change the log', async () => {
    const store = create();
    await store.appendToStream('device/x', [enrolled('x')]);
    const [event] = await store.readStream('device/x');
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event!.data)).toBe(true);
  });

  it('finds retried events on pages long gone, in streams long and short', async () => {
    const store = create();
    // 40 devices, 150 events each, appended one at a time in turn: 6,000 events on 94 pages of the packed store,
    // each stream spread over all of them and long enough to index its ids.
    const at = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
    const eventFor = (d: number, v: number): NewEvent => {
      const id = uuid(d * 1_000 + v);
      if (v === 1) return enrolled(`d${d}`, id);
      if (v === 2) return { id, type: 'EligibilityAssessed', time: at(v), data: { eligible: true, reasons: [] } };
      return v % 2 === 1 ? { id, type: 'RebootRequired', time: at(v), data: { reason: 'baseline', baseline: `B-${v}` } } : { id, type: 'BaselineInstalled', time: at(v), data: { baseline: `B-${v - 1}` } };
    };
    for (let v = 1; v <= 150; v++) for (let d = 0; d < 40; d++) await store.appendToStream(`device/d${d}`, [eventFor(d, v)], { expectedVersion: v - 1 });
    expect(await store.readAll()).toHaveLength(6_000);

    // A retry of the first event of a long stream, and of a late one: the original results, nothing written.
    for (const v of [1, 3, 149]) {
      const again = await store.appendToStream('device/d7', [eventFor(7, v)]);
      expect(again).toMatchObject({ written: false, versions: [v], positions: [(v - 1) * 40 + 8] });
    }
    // Held and new ids in one batch: refused; a new id: written.
    await expect(store.appendToStream('device/d7', [eventFor(7, 149), eventFor(7, 151)])).rejects.toThrow(/already in the stream/);
    expect((await store.appendToStream('device/d7', [eventFor(7, 151)])).written).toBe(true);
    const stream = await store.readStream('device/d7');
    expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 151 }, (_, i) => i + 1));
    expect(stream.every((e, i) => e.id === eventFor(7, i + 1).id)).toBe(true);
  });

  it('tells apart ids that end alike in a long stream', async () => {
    const store = create();
    // 60 events whose ids differ only in their first eight digits: one entry of the stream's id index for all.
    const id = (v: number) => `${v.toString(16).padStart(8, '0')}-0000-4000-8000-000000000001`;
    const at = (v: number) => new Date(Date.UTC(2026, 0, 1) + v * 60_000).toISOString();
    const eventFor = (v: number): NewEvent =>
      v === 1 ? enrolled('alike', id(v)) : v === 2 ? { id: id(v), type: 'EligibilityAssessed', time: at(v), data: { eligible: true, reasons: [] } } : v % 2 === 1 ? { id: id(v), type: 'RebootRequired', time: at(v), data: { reason: 'baseline', baseline: `B-${v}` } } : { id: id(v), type: 'BaselineInstalled', time: at(v), data: { baseline: `B-${v - 1}` } };
    for (let v = 1; v <= 60; v++) await store.appendToStream('device/alike', [eventFor(v)]);
    for (const v of [1, 2, 33, 60]) expect(await store.appendToStream('device/alike', [eventFor(v)])).toMatchObject({ written: false, versions: [v] });
    expect((await store.appendToStream('device/alike', [eventFor(61)])).written).toBe(true);
    expect(await store.streamVersion('device/alike')).toBe(61);
  });
});

describe('readLog', () => {
  it('reads the whole log page by page, in global order, from any position', async () => {
    const store = createInMemoryEventStore();
    for (let i = 1; i <= 5; i++) await store.appendToStream(`device/log-${i}`, [enrolled(String(i), uuid(i))]);
    const all = async (from?: number) => {
      const out: number[] = [];
      for await (const e of readLog(store, { pageSize: 2, ...(from !== undefined ? { fromPosition: from } : {}) })) out.push(e.position);
      return out;
    };
    expect(await all()).toEqual([1, 2, 3, 4, 5]);
    expect(await all(4)).toEqual([4, 5]);
    expect(await all(6)).toEqual([]);
  });
});
