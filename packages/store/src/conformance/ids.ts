/** Event ids: a retry gives the original result; an id held by another stream or as another event is refused. */
import { beforeEach, describe, expect, it } from 'vitest';
import { DuplicateEventIdError, EventIdReusedError, EventIdTakenError, IdempotencyConflictError, inBatch, type EventStore } from '../index.js';
import { events, fresh, uuid, at, type Suite } from './fixtures.js';

export function describeIds(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
  });

  describe('idempotency', () => {
    it('re-appending events whose ids the stream holds returns the original result and writes nothing', async () => {
      const s = fresh('idem');
      const batch = [events.enrolled(), events.assessed()];
      const first = await store.appendToStream(s, batch, { expectedVersion: 'no_stream' });
      const before = await store.readAll();
      // A retry, even with an expected version that no longer holds.
      const again = await store.appendToStream(s, batch, { expectedVersion: 'no_stream' });
      expect(again).toEqual({ ...first, written: false });
      expect(await store.readAll()).toEqual(before);
      expect(await store.streamVersion(s)).toBe(2);
    });

    it('a batch mixing held and new ids is refused, and nothing is written', async () => {
      const s = fresh('mix');
      const enrolled = events.enrolled();
      await store.appendToStream(s, [enrolled]);
      const error = await store.appendToStream(s, [enrolled, events.assessed()]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect(await store.streamVersion(s)).toBe(1);
    });

    it('a held id deep in a long batch is refused, named, and nothing of the batch is written', async () => {
      const s = fresh('deep');
      const held = events.assessed();
      await store.appendToStream(s, [events.enrolled(), held]);
      const before = await store.readAll();
      const batch = [...Array.from({ length: 150 }, () => events.assessed()), held, ...Array.from({ length: 49 }, () => events.assessed())];
      const error = await store.appendToStream(s, batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyConflictError);
      expect((error as IdempotencyConflictError).message).toContain(held.id!);
      expect(await store.streamVersion(s)).toBe(2);
      expect(await store.readAll()).toEqual(before);
    });

    it('an id another stream holds is refused, naming that stream, and nothing of the batch is written', async () => {
      const first = fresh('taken');
      const taken = events.enrolled();
      await store.appendToStream(first, [taken, events.assessed()]);
      const before = await store.readAll();
      const expectTaken = (error: unknown, stream: string) => {
        expect(error).toBeInstanceOf(EventIdTakenError);
        expect(error).toMatchObject({ stream, id: taken.id, holder: { stream: first, version: 1 } });
        expect((error as Error).message).toContain(first);
      };
      // A new stream, alone or with other events.
      const second = fresh('taken');
      expectTaken(await store.appendToStream(second, [taken]).catch((e: unknown) => e), second);
      expectTaken(await store.appendToStream(second, [{ ...taken, type: 'DeviceEnrolled' }, events.assessed()], { expectedVersion: 'no_stream' }).catch((e: unknown) => e), second);
      // An existing stream, the id deep in a long batch (past the stores' first INSERT).
      const third = fresh('taken');
      await store.appendToStream(third, [events.enrolled()]);
      const long = [...Array.from({ length: 150 }, () => events.assessed()), { ...taken, type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } }, ...Array.from({ length: 9 }, () => events.assessed())];
      expectTaken(await store.appendToStream(third, long).catch((e: unknown) => e), third);
      expect(await store.streamVersion(second)).toBe(0);
      expect(await store.streamVersion(third)).toBe(1);
      expect((await store.readAll()).length).toBe(before.length + 1);
      // In a batch, the refused append leaves the others.
      const fourth = fresh('taken');
      await inBatch(store, async () => {
        expectTaken(await store.appendToStream(second, [taken]).catch((e: unknown) => e), second);
        await store.appendToStream(fourth, [events.enrolled()]);
      });
      expect(await store.streamVersion(fourth)).toBe(1);
      expect(await store.streamVersion(second)).toBe(0);
      // The holder's own retry still returns the original result.
      expect(await store.appendToStream(first, [taken])).toMatchObject({ written: false, versions: [1] });
    });

    it('an id the stream holds, sent again as another event (another type, other data), is refused; another time or meta is still a retry', async () => {
      const s = fresh('reused');
      const assessed = events.assessed(true);
      const first = await store.appendToStream(s, [events.enrolled(), assessed]);
      const before = await store.readAll();
      const expectReused = (error: unknown, differs: 'type' | 'data') => {
        expect(error).toBeInstanceOf(EventIdReusedError);
        expect(error).toMatchObject({ code: 'EVENT_ID_REUSED', stream: s, id: assessed.id, recorded: { version: 2, type: 'EligibilityAssessed' }, differs });
        expect((error as Error).message).toContain(assessed.id!);
      };
      // Another type (the lifecycle would take it: the unique index on ids is what finds it), alone and first in a
      // batch; the same type with other data, behind a new event (not a partial retry: a reuse).
      expectReused(await store.appendToStream(s, [{ ...events.staged(), id: assessed.id }]).catch((e: unknown) => e), 'type');
      expectReused(await store.appendToStream(s, [{ ...events.staged(), id: assessed.id }, events.staged()]).catch((e: unknown) => e), 'type');
      expectReused(await store.appendToStream(s, [{ ...assessed, data: { eligible: false, reasons: ['build'] } }], { expectedVersion: 1 }).catch((e: unknown) => e), 'data');
      expectReused(await store.appendToStream(s, [events.staged(), { ...assessed, data: { eligible: false, reasons: [] } }]).catch((e: unknown) => e), 'data');
      expect(await store.readAll()).toEqual(before);
      // The same event sent again later, by another attempt (its time and meta are the attempt's), with its data's
      // keys in another order: a retry, and the first attempt's time and meta stay.
      const again = await store.appendToStream(s, [{ ...assessed, time: at(30), meta: { attempt: 2 }, data: { reasons: [], eligible: true } }]);
      expect(again).toMatchObject({ written: false, versions: [2], positions: [first.positions[1]] });
      expect(again.events[0]).toEqual(first.events[1]);
      expect(await store.readAll()).toEqual(before);
    });

    it('an upper-case id is refused, so that one id cannot become two events', async () => {
      const id = uuid();
      await store.appendToStream(fresh('case'), [events.enrolled('B1', id)]);
      await expect(store.appendToStream(fresh('case'), [events.enrolled('B1', id.toUpperCase())])).rejects.toThrow(/expected a lower-case UUID/);
    });

    it('an id repeated within a batch is refused', async () => {
      const id = uuid();
      await expect(store.appendToStream(fresh('dup'), [events.enrolled('B1', id), events.assessed(true, id)])).rejects.toBeInstanceOf(DuplicateEventIdError);
    });
  });
}
