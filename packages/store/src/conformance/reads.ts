/** Reads: a stream by versions, the log from a position, pages of any size, one event by id. */
import { beforeEach, describe, expect, it } from 'vitest';
import { inBatch, InvalidReadOptionsError, type EventStore } from '../index.js';
import { events, fresh, uuid, type Suite } from './fixtures.js';

export function describeReads(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
  });

  describe('reading', () => {
    it('a name or id no stream can hold (a NUL in it) reads as absent, in a batch or not: no events, version 0, the state of a stream without events', async () => {
      const s = fresh('held');
      await store.appendToStream(s, [events.enrolled()]);
      const [id] = (await store.readStream(s)).map((e) => e.id);
      const nul = `${s}\u0000x`;
      const read = async () => ({
        stream: await store.readStream(nul),
        version: await store.streamVersion(nul),
        state: await store.readState(nul),
        event: await store.readEvent(nul, id!),
        byId: await store.readEvent(s, `${id}\u0000`),
      });
      for (const answer of [await read(), await inBatch(store, read)]) {
        expect(answer).toMatchObject({ stream: [], version: 0, state: { version: 0, eventsFolded: 0, state: { value: 'unenrolled' } }, event: undefined, byId: undefined });
      }
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it('a name with a lone surrogate (no stream can hold one) reads as absent, not as the stream of its U+FFFD twin, in a batch or not', async () => {
      const twin = fresh('twin\ufffd');
      await store.appendToStream(twin, [events.enrolled()]);
      const [id] = (await store.readStream(twin)).map((e) => e.id);
      const lone = twin.replace('\ufffd', '\ud800');
      const read = async () => ({
        stream: await store.readStream(lone),
        version: await store.streamVersion(lone),
        state: await store.readState(lone),
        event: await store.readEvent(lone, id!),
      });
      for (const answer of [await read(), await inBatch(store, read)]) {
        expect(answer).toMatchObject({ stream: [], version: 0, state: { version: 0, eventsFolded: 0, state: { value: 'unenrolled' } }, event: undefined });
      }
      expect(await store.streamVersion(twin)).toBe(1);
    });

    it('readStream reads version ranges', async () => {
      const s = fresh('range');
      await store.appendToStream(s, [events.enrolled(), events.assessed(), events.assessed(false), events.assessed(true), events.assessed()]);
      const versions = async (o: Parameters<EventStore['readStream']>[1]) => (await store.readStream(s, o)).map((e) => e.version);
      expect(await versions({ fromVersion: 2 })).toEqual([2, 3, 4, 5]);
      expect(await versions({ toVersion: 2 })).toEqual([1, 2]);
      expect(await versions({ fromVersion: 2, toVersion: 4 })).toEqual([2, 3, 4]);
      expect(await versions({ fromVersion: 3, limit: 1 })).toEqual([3]);
      expect(await versions({ fromVersion: 6 })).toEqual([]);
      expect(await store.readStream(fresh('empty'))).toEqual([]);
    });

    it('readAll reads from any position in global order', async () => {
      const a = fresh('ga');
      const b = fresh('gb');
      await store.appendToStream(a, [events.enrolled()]);
      await store.appendToStream(b, [events.enrolled(), events.assessed()]);
      await store.appendToStream(a, [events.assessed()]);
      const all = await store.readAll();
      const positions = all.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      expect(new Set(positions).size).toBe(positions.length);
      const mine = all.filter((e) => e.stream === a || e.stream === b).map((e) => `${e.stream === a ? 'a' : 'b'}${e.version}`);
      expect(mine).toEqual(['a1', 'b1', 'b2', 'a2']);
      for (const from of positions) {
        const tail = await store.readAll({ fromPosition: from });
        expect(tail.map((e) => e.position)).toEqual(positions.filter((p) => p >= from));
      }
      expect((await store.readAll({ fromPosition: positions[1]!, limit: 2 })).map((e) => e.position)).toEqual(positions.slice(1, 3));
      expect(await store.readAll({ fromPosition: positions[positions.length - 1]! + 1 })).toEqual([]);
    });

    it('reads pages of any size (a store may keep a statement per size), and refuses a limit or position that is not a whole number', async () => {
      const s = fresh('pages');
      await store.appendToStream(s, [events.enrolled(), ...Array.from({ length: 39 }, (_, i) => events.assessed(i % 2 === 0))]);
      const first = (await store.readStream(s, { limit: 1 }))[0]!.position;
      // Forty page sizes: more than a store would keep prepared, so the ones past that are read another way.
      for (let limit = 0; limit <= 40; limit++) {
        expect((await store.readStream(s, { limit })).map((e) => e.version)).toEqual(Array.from({ length: Math.min(limit, 40) }, (_, i) => i + 1));
        expect((await store.readStream(s, { fromVersion: 38, limit })).map((e) => e.version)).toEqual([38, 39, 40].slice(0, limit));
        const page = await store.readAll({ fromPosition: first, limit });
        expect(page.length).toBe(limit);
        expect(page.map((e) => e.position)).toEqual([...page.map((e) => e.position)].sort((x, y) => x - y));
      }
      for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
        await expect(store.readAll({ limit })).rejects.toThrow(InvalidReadOptionsError);
        await expect(store.readStream(s, { limit })).rejects.toThrow(/readStream device\/pages-\d+: limit must be a whole number ≥ 0/);
      }
      await expect(store.readAll({ fromPosition: 2.5 })).rejects.toThrow(/readAll: fromPosition must be a whole number, got 2.5/);
      await expect(store.readStream(s, { toVersion: Number.NaN })).rejects.toThrow(InvalidReadOptionsError);
      expect(await store.readStream(s, { limit: 2 })).toHaveLength(2);
    });

    it('readEvent finds a stream’s event by id, in short and long streams, and nothing of another stream', async () => {
      const s = fresh('byid');
      const other = fresh('byid-other');
      const batch = [events.enrolled(), ...Array.from({ length: 40 }, () => events.assessed())];
      await store.appendToStream(s, batch);
      const foreign = events.enrolled();
      await store.appendToStream(other, [foreign]);
      const read = await store.readStream(s);
      for (const version of [1, 2, 33, 41]) expect(await store.readEvent(s, batch[version - 1]!.id!)).toEqual(read[version - 1]);
      expect(await store.readEvent(s, foreign.id!)).toBeUndefined();
      expect(await store.readEvent(other, foreign.id!)).toMatchObject({ stream: other, version: 1, id: foreign!.id });
      expect(await store.readEvent(s, uuid())).toBeUndefined();
      expect(await store.readEvent(s, 'not-an-id')).toBeUndefined();
      expect(await store.readEvent(fresh('byid-empty'), batch[0]!.id!)).toBeUndefined();
      // An id that shares its last 8 hex digits with a held one: only an exact match counts.
      const alike = `${batch[5]!.id!.slice(0, 24).replace('0193f2a0', '0193f2a1')}${batch[5]!.id!.slice(24)}`;
      expect(await store.readEvent(s, alike)).toBeUndefined();
    });
  });
}
