/**
 * The event store conformance suite: the contract every EventStore keeps, written once and run against each
 * store (in-memory, SQLite, PostgreSQL) with the same test file. A store passes it or is not an event store.
 * Published as `@hotpatch/store/conformance`, for a store of your own; it registers vitest tests.
 */
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { deviceStream, InvalidEventError, ringStream, TransitionRefusedError, type DeviceContext } from '@hotpatch/core';
import {
  ConsumerFailedError,
  DuplicateEventIdError,
  EventIdReusedError,
  EventIdTakenError,
  eventHash,
  GENESIS_HASH,
  IdempotencyConflictError,
  inBatch,
  InvalidReadOptionsError,
  StoreClosedError,
  WrongExpectedVersionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from './index.js';

export interface StoreUnderTest {
  readonly store: EventStore;
  /** Opens a second handle on the same log (another process would), where the store is durable. */
  reopen?(): Promise<EventStore>;
  /** Releases what the store holds (connections, files). */
  cleanup(): Promise<void>;
}

const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
let counter = 0;
const uuid = () => `0193f2a0-0000-7000-8000-${(++counter).toString(16).padStart(12, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 8, minute)).toISOString();

export const events = {
  enrolled: (baseline = 'B1', id = uuid()): NewEvent => ({ id, type: 'DeviceEnrolled', time: at(0), data: { ...profile, ring: 'pilot', baseline } }),
  assessed: (eligible = true, id = uuid(), reasons: string[] = []): NewEvent => ({ id, type: 'EligibilityAssessed', time: at(1), data: { eligible, reasons } }),
  staged: (patch = 'P1', baseline = 'B1', id = uuid()): NewEvent => ({ id, type: 'PatchStaged', time: at(2), data: { patch, baseline, requires: [], liveRevert: true } }),
};
const fresh = (name: string) => deviceStream(`${name}-${++counter}`);

/** Registers the conformance tests for a store; `open` is called before each test. */
export function describeEventStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name}: event store conformance`, () => {
    let sut: StoreUnderTest;
    let store: EventStore;
    beforeEach(async () => {
      sut = await open();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    it('appends and reads back, versions from 1 and positions in commit order', async () => {
      const s = fresh('a');
      const r1 = await store.appendToStream(s, [events.enrolled(), events.assessed()]);
      expect(r1).toMatchObject({ stream: s, nextExpectedVersion: 2, versions: [1, 2], written: true });
      expect(r1.positions[1]).toBe(r1.positions[0]! + 1);
      const r2 = await store.appendToStream(s, [events.staged()]);
      expect(r2.versions).toEqual([3]);
      expect(r2.positions[0]).toBeGreaterThan(r1.positions[1]!);
      const read = await store.readStream(s);
      expect(read.map((e) => [e.version, e.type, e.stream])).toEqual([
        [1, 'DeviceEnrolled', s],
        [2, 'EligibilityAssessed', s],
        [3, 'PatchStaged', s],
      ]);
      expect(read.map((e) => e.position)).toEqual([...r1.positions, ...r2.positions]);
      // The result carries the events exactly as they were recorded (ids, positions, hashes), as a read gives them.
      expect([...r1.events, ...r2.events]).toEqual(read);
      expect(JSON.stringify([...r1.events, ...r2.events])).toBe(JSON.stringify(read));
      expect(await store.streamVersion(s)).toBe(3);
      expect(await store.streamVersion(fresh('none'))).toBe(0);
    });

    it('keeps ids, times, data and meta exactly', async () => {
      const s = fresh('exact');
      const e = { ...events.enrolled(), meta: { by: 'agent-7', attempt: 2 } };
      await store.appendToStream(s, [e]);
      const [read] = await store.readStream(s);
      expect(read).toMatchObject({ id: e.id, time: e.time, data: e.data, meta: e.meta, type: e.type });
    });

    it('generates an id where an event has none', async () => {
      const s = fresh('noid');
      const { id: _drop, ...withoutId } = events.enrolled();
      await store.appendToStream(s, [withoutId]);
      const [read] = await store.readStream(s);
      expect(read!.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    describe('expected version', () => {
      it("'no_stream' holds only for a stream without events", async () => {
        const s = fresh('ns');
        await store.appendToStream(s, [events.enrolled()], { expectedVersion: 'no_stream' });
        const error = await store.appendToStream(s, [events.assessed()], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect(error).toMatchObject({ stream: s, expected: 'no_stream', actual: 1 });
      });

      it("'stream_exists' holds only for a stream with events", async () => {
        const s = fresh('se');
        const error = await store.appendToStream(s, [events.enrolled()], { expectedVersion: 'stream_exists' }).catch((e: unknown) => e);
        expect(error).toMatchObject({ expected: 'stream_exists', actual: 0 });
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        await store.appendToStream(s, [events.enrolled()]);
        await expect(store.appendToStream(s, [events.assessed()], { expectedVersion: 'stream_exists' })).resolves.toMatchObject({ nextExpectedVersion: 2 });
      });

      it('an exact version holds only at that version, and the conflict carries the actual one', async () => {
        const s = fresh('ex');
        await store.appendToStream(s, [events.enrolled()], { expectedVersion: 0 });
        await store.appendToStream(s, [events.assessed()], { expectedVersion: 1 });
        for (const wrong of [0, 1, 3]) {
          const error = await store.appendToStream(s, [events.assessed()], { expectedVersion: wrong }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WrongExpectedVersionError);
          expect(error).toMatchObject({ stream: s, expected: wrong, actual: 2 });
        }
        expect(await store.streamVersion(s)).toBe(2);
      });

      it("'any' always holds", async () => {
        const s = fresh('any');
        await store.appendToStream(s, [events.enrolled()], { expectedVersion: 'any' });
        await store.appendToStream(s, [events.assessed()], { expectedVersion: 'any' });
        expect(await store.streamVersion(s)).toBe(2);
      });

      it('refuses a malformed expected version', async () => {
        await expect(store.appendToStream(fresh('bad'), [events.enrolled()], { expectedVersion: -1 })).rejects.toBeInstanceOf(InvalidEventError);
        await expect(store.appendToStream(fresh('bad'), [events.enrolled()], { expectedVersion: 'latest' as never })).rejects.toBeInstanceOf(InvalidEventError);
      });
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

    describe('validation before anything is written', () => {
      it('an invalid event anywhere in a batch refuses the whole batch', async () => {
        const s = fresh('inv');
        const bad = { ...events.assessed(), data: { eligible: 'yes', reasons: [] } };
        const error = await store.appendToStream(s, [events.enrolled(), bad]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidEventError);
        expect(error).toMatchObject({ field: 'data.eligible', at: { stream: s, version: 2 } });
        expect(await store.readStream(s)).toEqual([]);
      });

      it('an unknown event type is refused', async () => {
        const error = await store.appendToStream(fresh('unk'), [{ ...events.enrolled(), type: 'DeviceExploded' }]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidEventError);
        expect((error as InvalidEventError).field).toBe('type');
      });

      it('an event the lifecycle refuses in the stream’s state is refused, with the batch', async () => {
        const s = fresh('tr');
        await store.appendToStream(s, [events.enrolled(), events.assessed()]);
        const error = await store.appendToStream(s, [events.staged('P1', 'B1'), events.staged('P2', 'B1')]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TransitionRefusedError);
        expect(error).toMatchObject({ state: 'staged', eventType: 'PatchStaged', at: { stream: s, version: 4 } });
        expect(await store.streamVersion(s)).toBe(2);
      });

      it('a ring’s stream is judged by the ring lifecycle: the service cannot lift the tenant’s pause, and device events do not belong there', async () => {
        const ring = ringStream(`conformance-${++counter}`);
        const at = '2026-03-02T10:00:00.000Z';
        await store.appendToStream(ring, [{ type: 'RingPaused', time: at, data: { by: 'tenant', reason: 'change freeze' } }], { expectedVersion: 'no_stream' });
        const refused = await store.appendToStream(ring, [{ type: 'RingResumed', time: at, data: { by: 'service' } }]).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(TransitionRefusedError);
        expect(refused).toMatchObject({ state: 'paused', eventType: 'RingResumed', at: { stream: ring, version: 2 } });
        const misplaced = await store.appendToStream(ring, [events.enrolled()]).catch((e: unknown) => e);
        expect(misplaced).toBeInstanceOf(InvalidEventError);
        expect((misplaced as InvalidEventError).field).toBe('type');
        expect(await store.readState(ring)).toMatchObject({ version: 1, state: { value: 'paused', context: { holds: [{ by: 'tenant', reason: 'change freeze' }] } } });
        await store.appendToStream(ring, [{ type: 'RingResumed', time: at, data: { by: 'tenant' } }], { expectedVersion: 1 });
        expect(await store.readState(ring)).toMatchObject({ version: 2, state: { value: 'open', context: { holds: [] } } });
      });

      it('a stream that is not a device stream is refused', async () => {
        await expect(store.appendToStream('nope', [events.enrolled()])).rejects.toBeInstanceOf(InvalidEventError);
      });
    });

    describe('reading', () => {
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

    it('appends a batch of 10,000 events at once', async () => {
      const s = fresh('big');
      const batch = [events.enrolled(), ...Array.from({ length: 9_999 }, (_, i) => events.assessed(i % 2 === 0, uuid(), i % 2 === 0 ? [] : ['vbs: off']))];
      const r = await store.appendToStream(s, batch);
      expect(r.nextExpectedVersion).toBe(10_000);
      expect(r.positions).toHaveLength(10_000);
      const read = await store.readStream(s);
      expect(read).toHaveLength(10_000);
      expect(read[9_999]!.id).toBe(batch[9_999]!.id);
    });

    it('keeps large and non-ASCII payloads byte for byte', async () => {
      const s = fresh('big-data');
      const reason = 'Überlastung ⚠️ 補丁失敗 — ' + 'x'.repeat(1 << 20);
      await store.appendToStream(s, [events.enrolled('Basislinie-😀'), events.assessed(false, uuid(), [reason, 'ελληνικά', '\u0000 and \u2028'])]);
      const [e1, e2] = await store.readStream(s);
      expect((e1!.data as { baseline: string }).baseline).toBe('Basislinie-😀');
      expect((e2!.data as { readonly reasons: readonly string[] }).reasons).toEqual([reason, 'ελληνικά', '\u0000 and \u2028']);
    });

    describe('tamper evidence', () => {
      it('chains every event to the one before it in its stream', async () => {
        const s = fresh('chain');
        await store.appendToStream(s, [events.enrolled(), events.assessed()]);
        await store.appendToStream(s, [{ ...events.staged(), meta: { by: 'x' } }]);
        const read = await store.readStream(s);
        let prev = GENESIS_HASH;
        for (const e of read) {
          const { position: _p, hash, ...fields } = e;
          expect(hash).toBe(eventHash(prev, fields));
          prev = hash;
        }
      });
    });

    describe('state', () => {
      it('reads a device’s state from its snapshot and the events after it', async () => {
        const s = fresh('state');
        await store.appendToStream(s, [events.enrolled(), events.assessed(), events.staged('P1')]);
        const read = await store.readState(s);
        expect(read).toMatchObject({ stream: s, version: 3, state: { value: 'staged' } });
        expect(read.snapshotVersion + read.eventsFolded).toBe(3);
        expect((read.state.context as DeviceContext).inFlight?.patch).toBe('P1');
        expect(await store.readState(fresh('nothing'))).toMatchObject({ version: 0, state: { value: 'unenrolled' } });
      });
    });

    describe('projections', () => {
      it('keep the furthest saved state of each name, byte for byte, and never move back', async () => {
        const name = `projection-${++counter}`;
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
        const name = `projection-parts-${++counter}`;
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

      it('inside a batch, are kept or dropped with the batch where the store groups writes', async () => {
        const name = `projection-batch-${++counter}`;
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

    describe('consumers', () => {
      const collect = (into: RecordedEvent[]) => (e: RecordedEvent) => {
        into.push(e);
      };

      it('checkpoints move by compare-and-set only', async () => {
        const c = `cp-${++counter}`;
        expect(await store.readCheckpoint(c)).toBe(0);
        expect(await store.saveCheckpoint(c, 0, 5)).toBe(true);
        expect(await store.saveCheckpoint(c, 0, 7)).toBe(false);
        expect(await store.readCheckpoint(c)).toBe(5);
        expect(await store.saveCheckpoint(c, 5, 9)).toBe(true);
        expect(await store.readCheckpoint(c)).toBe(9);
      });

      it('catches up from the checkpoint, follows new events, and a restarted consumer resumes where it stopped', async () => {
        const c = `follow-${++counter}`;
        const s = fresh('sub');
        await store.appendToStream(s, [events.enrolled(), events.assessed()]);
        const end1 = (await store.readAll()).at(-1)!.position;
        const seen: RecordedEvent[] = [];
        const sub = store.subscribe(c, collect(seen), { pollIntervalMs: 10, batchSize: 3 });
        await sub.waitFor(end1);
        const r = await store.appendToStream(s, [events.assessed(false), events.assessed(true)]);
        await sub.waitFor(r.positions[1]!);
        await sub.stop();
        await sub.done;
        expect(seen.map((e) => e.position)).toEqual((await store.readAll()).map((e) => e.position));
        expect(await store.readCheckpoint(c)).toBe(r.positions[1]);
        // Restarted: only what came after.
        const r2 = await store.appendToStream(s, [events.assessed()]);
        const later: RecordedEvent[] = [];
        const again = store.subscribe(c, collect(later), { pollIntervalMs: 10 });
        await again.waitFor(r2.positions[0]!);
        await again.stop();
        expect(later.map((e) => e.position)).toEqual(r2.positions);
      });

      it("a handler's error stops the consumer at that event, reports it, and skips nothing", async () => {
        const c = `fail-${++counter}`;
        const s = fresh('boom');
        await store.appendToStream(s, [events.enrolled(), events.assessed(), events.staged()]);
        const all = await store.readAll();
        const poison = all.find((e) => e.stream === s && e.version === 2)!.position;
        const seen: number[] = [];
        const sub = store.subscribe(c, (e) => {
          if (e.position === poison) throw new Error('handler bug');
          seen.push(e.position);
        }, { pollIntervalMs: 10 });
        const error = await sub.done.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConsumerFailedError);
        expect(error).toMatchObject({ consumer: c, position: poison });
        expect(await store.readCheckpoint(c)).toBe(poison - 1);
        expect(seen.at(-1)).toBe(poison - 1);
        // Fixed and restarted, it starts again at the failed event.
        const retried: number[] = [];
        const fixed = store.subscribe(c, (e) => {
          retried.push(e.position);
        }, { pollIntervalMs: 10 });
        await fixed.waitFor(all.at(-1)!.position);
        await fixed.stop();
        expect(retried[0]).toBe(poison);
      });
    });

    it('stops a consumer promptly, even while it is reading', async () => {
        const sub = store.subscribe(`stop-${++counter}`, () => {}, { pollIntervalMs: 60_000 });
        await sub.waitFor(0);
        const started = Date.now();
        await sub.stop();
        expect(Date.now() - started).toBeLessThan(5_000);
      });

    it('refuses to work once closed', async () => {
      await store.close();
      await expect(store.readAll()).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.appendToStream(fresh('closed'), [events.enrolled()])).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
