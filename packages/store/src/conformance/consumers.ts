/** Consumers: checkpoints by compare-and-set, catching up and following, a handler's failure, stopping. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ConsumerFailedError, inBatch, InvalidConsumerError, type RecordedEvent, type EventStore } from '../index.js';
import { events, fresh, next, type Suite } from './fixtures.js';

export function describeConsumers(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
  });

  describe('consumers', () => {
    const collect = (into: RecordedEvent[]) => (e: RecordedEvent) => {
      into.push(e);
    };

    it('checkpoints move by compare-and-set only', async () => {
      const c = `cp-${next()}`;
      expect(await store.readCheckpoint(c)).toBe(0);
      expect(await store.saveCheckpoint(c, 0, 5)).toBe(true);
      expect(await store.saveCheckpoint(c, 0, 7)).toBe(false);
      expect(await store.readCheckpoint(c)).toBe(5);
      expect(await store.saveCheckpoint(c, 5, 9)).toBe(true);
      expect(await store.readCheckpoint(c)).toBe(9);
    });

    it('the checkpoint of a consumer named with a NUL or a lone surrogate (a name no store need keep) reads as 0, in a batch or not', async () => {
      const c = `cp-${next()}\u0000x`;
      expect(await store.readCheckpoint(c)).toBe(0);
      expect(await inBatch(store, () => store.readCheckpoint(c))).toBe(0);
      // A lone surrogate: not the checkpoint of its U+FFFD twin.
      const twin = `cp-${next()}\ufffd`;
      expect(await store.saveCheckpoint(twin, 0, 4)).toBe(true);
      expect(await store.readCheckpoint(twin.replace('\ufffd', '\ud800'))).toBe(0);
    });

    it('a checkpoint is not saved, nor a consumer started, under a name no store need keep (a NUL, a lone surrogate, none): InvalidConsumerError, the twin untouched', async () => {
      const twin = `cp-${next()}\ufffd`;
      expect(await store.saveCheckpoint(twin, 0, 4)).toBe(true);
      for (const name of [`cp-${next()}\u0000x`, twin.replace('\ufffd', '\ud800'), '']) {
        for (const save of [() => store.saveCheckpoint(name, 0, 9), () => inBatch(store, () => store.saveCheckpoint(name, 0, 9))]) {
          const error = await save().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidConsumerError);
          expect(error).toMatchObject({ code: 'INVALID_CONSUMER', consumer: name });
        }
        expect(() => store.subscribe(name, () => {})).toThrow(InvalidConsumerError);
      }
      expect(await store.readCheckpoint(twin)).toBe(4);
    });

    it('catches up from the checkpoint, follows new events, and a restarted consumer resumes where it stopped', async () => {
      const c = `follow-${next()}`;
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
      const c = `fail-${next()}`;
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
    const sub = store.subscribe(`stop-${next()}`, () => {}, { pollIntervalMs: 60_000 });
    await sub.waitFor(0);
    const started = Date.now();
    await sub.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
}
