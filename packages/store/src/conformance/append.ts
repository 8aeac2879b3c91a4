/** Appends: results as recorded, ids, times, data and meta kept, the expected version, large batches and payloads. */
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidEventError } from '@hotpatch/core';
import { WrongExpectedVersionError, type EventStore } from '../index.js';
import { events, fresh, uuid, type Suite } from './fixtures.js';

export function describeAppends(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
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
}
