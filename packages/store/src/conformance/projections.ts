/** Saved projections: never moved back, kept in parts, refused when malformed, kept or dropped with a batch. */
import { beforeEach, describe, expect, it } from 'vitest';
import { inBatch, type EventStore } from '../index.js';
import { next, type Suite } from './fixtures.js';

export function describeProjections(suite: Suite): void {
  let store: EventStore;
  let sut: Suite['sut'];
  beforeEach(() => {
    store = suite.store;
    sut = suite.sut;
  });

  describe('projections', () => {
    it('keep the furthest saved state of each name, byte for byte, and never move back', async () => {
      const name = `projection-${next()}`;
      expect(await store.readProjection(name)).toBeUndefined();
      const data = JSON.stringify({ note: 'é ✓ 𝄞', filler: 'x'.repeat(1_000_000) });
      expect(await store.saveProjection(name, 10, data)).toBe(true);
      expect(await store.readProjection(name)).toEqual({ position: 10, parts: [data] });
      // At or below the saved position: nothing changes.
      expect(await store.saveProjection(name, 10, 'other')).toBe(false);
      expect(await store.saveProjection(name, 4, 'older')).toBe(false);
      expect(await store.readProjection(name)).toEqual({ position: 10, parts: [data] });
      expect(await store.saveProjection(name, 12, '{}')).toBe(true);
      expect(await store.readProjection(name)).toEqual({ position: 12, parts: ['{}'] });
      expect(await store.readProjection(`${name}-other`)).toBeUndefined();
      if (sut.reopen) {
        const again = await sut.reopen();
        expect(await again.readProjection(name)).toEqual({ position: 12, parts: ['{}'] });
        await again.close();
      }
    });

    it('keep a projection saved in parts, in order, and replace every part at once', async () => {
      const name = `projection-parts-${next()}`;
      // Parts of every size, an empty one among them, and more than ten (so that 10 is not read before 2).
      const parts = Array.from({ length: 12 }, (_, i) => (i === 3 ? '' : `part ${i} ✓ ${'y'.repeat(i * 50_000)}`));
      expect(await store.saveProjection(name, 20, parts)).toBe(true);
      expect(await store.readProjection(name)).toEqual({ position: 20, parts });
      // A refused save leaves every part as it was.
      expect(await store.saveProjection(name, 20, ['a', 'b'])).toBe(false);
      expect(await store.readProjection(name)).toEqual({ position: 20, parts });
      // Fewer parts replace more: nothing of the older save is left.
      expect(await store.saveProjection(name, 21, ['first', 'second'])).toBe(true);
      expect(await store.readProjection(name)).toEqual({ position: 21, parts: ['first', 'second'] });
      expect(await store.saveProjection(name, 22, 'one string')).toBe(true);
      expect(await store.readProjection(name)).toEqual({ position: 22, parts: ['one string'] });
      if (sut.reopen) {
        const again = await sut.reopen();
        expect(await again.readProjection(name)).toEqual({ position: 22, parts: ['one string'] });
        await again.close();
      }
    });

    it('refuse a bad name, position or data, naming the projection', async () => {
      await expect(store.saveProjection('', 1, '{}')).rejects.toMatchObject({ code: 'INVALID_PROJECTION' });
      await expect(store.saveProjection('p', -1, '{}')).rejects.toThrow(/projection "p": the position must be a whole number ≥ 0/);
      await expect(store.saveProjection('p', 1.5, '{}')).rejects.toThrow(/whole number/);
      await expect(store.saveProjection('p', 1, { not: 'text' } as never)).rejects.toThrow(/the data must be a string/);
      await expect(store.saveProjection('p', 1, [])).rejects.toThrow(/a non-empty array of strings/);
      await expect(store.saveProjection('p', 1, ['ok', 7] as never)).rejects.toThrow(/a non-empty array of strings/);
      expect(await store.readProjection('p')).toBeUndefined();
    });

    it('refuse a name or data holding a NUL or a lone surrogate (text not every store can keep), in a batch or not, nothing saved; a read of such a name is undefined', async () => {
      const name = `projection-nul-${next()}`;
      for (const attempt of [(n: string, d: string | string[]) => store.saveProjection(n, 1, d), (n: string, d: string | string[]) => inBatch(store, () => store.saveProjection(n, 1, d))]) {
        for (const [n, d] of [[`${name}\u0000x`, '{}'], [name, 'a\u0000b'], [name, ['ok', '\u0000']], [`${name}\ud800`, '{}'], [name, 'a\udc00b']] as const) {
          await expect(attempt(n, d as string | string[])).rejects.toMatchObject({ code: 'INVALID_PROJECTION', projection: n });
        }
      }
      expect(await store.readProjection(name)).toBeUndefined();
      expect(await store.readProjection(`${name}\u0000x`)).toBeUndefined();
      expect(await inBatch(store, () => store.readProjection(`${name}\u0000x`))).toBeUndefined();
      // Not the projection of its U+FFFD twin either.
      expect(await store.saveProjection(`${name}\ufffd`, 1, '{}')).toBe(true);
      expect(await store.readProjection(`${name}\ud800`)).toBeUndefined();
    });

    it('inside a batch, are kept or dropped with the batch where the store groups writes', async () => {
      const name = `projection-batch-${next()}`;
      await expect(
        inBatch(store, async () => {
          await store.saveProjection(name, 3, 'in a failed batch');
          throw new Error('the unit of work failed');
        }),
      ).rejects.toThrow(/unit of work failed/);
      expect(await store.readProjection(name)).toEqual(store.batch ? undefined : { position: 3, parts: ['in a failed batch'] });
      await inBatch(store, () => store.saveProjection(name, 5, ['kept', 'in parts']));
      expect(await store.readProjection(name)).toEqual({ position: 5, parts: ['kept', 'in parts'] });
    });
  });
}
