/** Batches (inBatch): reads of their own writes, refusals kept apart, and where the store groups writes, all or nothing. */
import { beforeEach, describe, expect, it } from 'vitest';
import { TransitionRefusedError } from '@hotpatch/core';
import { EventIdReusedError, EventIdTakenError, inBatch, type EventStore } from '../index.js';
import { events, fresh, type Suite } from './fixtures.js';

export function describeBatches(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
  });

  describe('batches (inBatch)', () => {
    it('reads its own writes, keeps a refused append apart, and leaves everything written', async () => {
      const a = fresh('batch-a');
      const b = fresh('batch-b');
      const refused = await inBatch(store, async () => {
        await store.appendToStream(a, [events.enrolled()]);
        expect(await store.streamVersion(a)).toBe(1);
        expect((await store.readAll()).some((e) => e.stream === a)).toBe(true);
        const error = await store.appendToStream(b, [events.staged()]).catch((e: unknown) => e);
        await store.appendToStream(b, [events.enrolled(), events.assessed()]);
        return error;
      });
      expect(refused).toBeInstanceOf(TransitionRefusedError);
      expect(await store.streamVersion(a)).toBe(1);
      expect(await store.streamVersion(b)).toBe(2);
      const positions = (await store.readAll()).map((e) => e.position);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
    });

    it('knows its own appends: a retry of one made earlier in the batch is recognised, its id reused for another event refused', async () => {
      // On an empty log and on one that holds events (a store may know that an empty log holds only the batch's own).
      for (const round of [1, 2]) {
        const s = fresh(`batch-retry-${round}`);
        const first = [events.enrolled(), events.assessed()];
        const second = [events.staged()];
        await inBatch(store, async () => {
          const a = await store.appendToStream(s, first);
          // Before anything reads (a store may hold the rows back until then) and after a read.
          expect(await store.appendToStream(s, first)).toEqual({ ...a, written: false });
          await expect(store.appendToStream(s, [{ ...first[1]!, type: 'PatchStaged', data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true } }])).rejects.toThrow(EventIdReusedError);
          expect((await store.readAll()).filter((e) => e.stream === s)).toEqual(a.events);
          expect(await store.appendToStream(s, first, { expectedVersion: 'no_stream' })).toEqual({ ...a, written: false });
          await expect(store.appendToStream(fresh('batch-retry-other'), [first[0]!])).rejects.toThrow(EventIdTakenError);
          const b = await store.appendToStream(s, second, { expectedVersion: 2 });
          expect(await store.appendToStream(s, second)).toEqual({ ...b, written: false });
        });
        expect((await store.readStream(s)).map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
      }
    });

    it('where the store groups writes: nothing is kept when the batch throws, and other callers wait for it', async () => {
      if (!store.batch) return; // each append commits on its own in this store
      const s = fresh('batch-fail');
      await expect(
        store.batch(async () => {
          await store.appendToStream(s, [events.enrolled()]);
          throw new Error('the caller changed its mind');
        }),
      ).rejects.toThrow('the caller changed its mind');
      expect(await store.streamVersion(s)).toBe(0);

      // A reader outside the batch does not see its work half done: it waits, then sees all of it.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const batch = store.batch(async () => {
        await store.appendToStream(s, [events.enrolled()]);
        await held;
        await store.appendToStream(s, [events.assessed()]);
      });
      const outside = store.streamVersion(s);
      const seen = await Promise.race([outside, new Promise((resolve) => setTimeout(() => resolve('waiting'), 50))]);
      expect(seen).toBe('waiting');
      release();
      await batch;
      expect(await outside).toBe(2);
    });
  });
}
