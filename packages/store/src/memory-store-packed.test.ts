import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH } from './hash.js';
import { createInMemoryEventStore, createPackedInMemoryEventStore } from './memory-store.js';
import type { NewEvent } from './types.js';

// Strings of any code units (lone surrogates, quotes, backslashes, controls), keys included: what a packed page's
// text must carry exactly as JSON.stringify would.
const anyString = fc.string({ unit: 'binary', maxLength: 12 });
const jsonLeaf = fc.oneof(anyString, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const jsonObject = fc.dictionary(anyString, fc.oneof(jsonLeaf, fc.array(jsonLeaf, { maxLength: 3 }), fc.dictionary(anyString, jsonLeaf, { maxKeys: 3 })), { maxKeys: 4 });

const enrolled = (edition: string, baseline: string, meta: object | undefined): NewEvent => ({
  type: 'DeviceEnrolled',
  time: '2026-01-01T00:00:00.000Z',
  data: { edition, build: '1', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: true, ring: 'r', baseline },
  ...(meta !== undefined ? { meta } : {}),
});

describe('the packed memory store', () => {
  it('reads back every event as the object store holds it, hashes and text included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ edition: anyString.map((s) => 'E' + s), baseline: anyString.map((s) => 'B' + s), meta: fc.option(jsonObject, { nil: undefined }) }), { minLength: 1, maxLength: 70 }), async (rows) => {
        let n = 0;
        const newId = () => `00000000-0000-4000-8000-${(++n % 1e12).toString(16).padStart(12, '0')}`;
        const objects = createInMemoryEventStore({ newId });
        const written = [];
        for (let i = 0; i < rows.length; i++) {
          const { edition, baseline, meta } = rows[i]!;
          written.push(...(await objects.appendToStream(`device/d${i}`, [enrolled(edition, baseline, meta)])).events);
        }
        n = 0;
        const packed = createPackedInMemoryEventStore({ newId });
        const returned = [];
        for (let i = 0; i < rows.length; i++) {
          const { edition, baseline, meta } = rows[i]!;
          returned.push(...(await packed.appendToStream(`device/d${i}`, [enrolled(edition, baseline, meta)])).events);
        }
        // Pages of 64: the first page deflated, the rest still open, both read back.
        const read = await packed.readAll();
        expect(read).toEqual(written);
        expect(returned).toEqual(written);
        expect(read.map((e) => JSON.stringify(e))).toEqual(written.map((e) => JSON.stringify(e)));
        for (const e of read) {
          expect(Object.isFrozen(e) && Object.isFrozen(e.data) && (e.meta === undefined || Object.isFrozen(e.meta))).toBe(true);
          expect(e.hash).toBe(eventHash(GENESIS_HASH, e));
        }
      }),
      { seed: 2026_12_07, numRuns: 60 },
    );
  });

  it('keeps what it was given, not the caller’s objects', async () => {
    const store = createPackedInMemoryEventStore();
    const meta = { note: 'before', nested: { n: 1 } };
    const event = enrolled('E', 'B', meta);
    const [recorded] = (await store.appendToStream('device/x', [event])).events;
    meta.note = 'after';
    meta.nested.n = 2;
    expect(recorded!.meta).toEqual({ note: 'before', nested: { n: 1 } });
    expect((await store.readAll())[0]!.meta).toEqual({ note: 'before', nested: { n: 1 } });
    expect(Object.isFrozen((recorded!.meta as { nested: object }).nested)).toBe(true);
  });
});
