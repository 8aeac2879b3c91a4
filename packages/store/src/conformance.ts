/**
 * The event store conformance suite: the contract every EventStore keeps, written once and run against each
 * store (in-memory, SQLite, PostgreSQL) with the same test file. A store passes it or is not an event store.
 * Published as `@hotpatch/store/conformance`, for a store of your own; it registers vitest tests. One file per
 * topic in conformance/.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreClosedError } from './index.js';
import { describeAppends } from './conformance/append.js';
import { describeBatches } from './conformance/batch.js';
import { describeConsumers } from './conformance/consumers.js';
import { events, fresh, type StoreUnderTest } from './conformance/fixtures.js';
import { describeIds } from './conformance/ids.js';
import { describeProjections } from './conformance/projections.js';
import { describeReads } from './conformance/reads.js';
import { describeState } from './conformance/state.js';
import { describeValidation } from './conformance/validation.js';
import { describeVerifiedHashes } from './conformance/verified.js';

export { events, type StoreUnderTest } from './conformance/fixtures.js';
export { scopedUnderTest } from './conformance/scoped.js';
export { asyncContextsPerPromise } from './conformance/async-contexts.js';

/** Registers the conformance tests for a store; `open` is called before each test. */
export function describeEventStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`${name}: event store conformance`, () => {
    const suite = {} as { sut: StoreUnderTest; store: StoreUnderTest['store'] };
    beforeEach(async () => {
      suite.sut = await open();
      suite.store = suite.sut.store;
    });
    afterEach(async () => {
      await suite.sut.cleanup();
    });

    describeAppends(suite);
    describeBatches(suite);
    describeIds(suite);
    describeValidation(suite);
    describeReads(suite);
    describeState(suite);
    describeProjections(suite);
    describeConsumers(suite);
    describeVerifiedHashes(suite);

    it('close() settles every call in flight, each with its result or StoreClosedError, and keeps each all or nothing', async () => {
      const { store } = suite;
      const streams = Array.from({ length: 48 }, () => fresh('closing'));
      // Half of them under way (at the database, or waiting for a connection) when close() is called, half not yet run.
      const appends = streams.slice(0, 24).map((stream) => store.appendToStream(stream, [events.enrolled(), events.assessed()]));
      await new Promise((resolve) => setImmediate(resolve));
      appends.push(...streams.slice(24).map((stream) => store.appendToStream(stream, [events.enrolled(), events.assessed()])));
      const reads = [store.readAll(), store.readStream(streams[0]!), store.readState(streams[1]!)];
      await store.close();
      const settled = await Promise.allSettled([...appends, ...reads]);
      for (const result of settled) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(StoreClosedError);
      await expect(store.appendToStream(fresh('closed'), [events.enrolled()])).rejects.toBeInstanceOf(StoreClosedError);
      if (suite.sut.reopen === undefined) return;
      const other = await suite.sut.reopen();
      for (let i = 0; i < streams.length; i++) expect(await other.streamVersion(streams[i]!)).toBe(settled[i]!.status === 'fulfilled' ? 2 : 0);
    });

    for (const callsAfter of [true, false]) {
      it(`close() during a batch (${callsAfter ? 'which calls the store after it' : 'which only returns after it'}): the batch settles (committed, or StoreClosedError and nothing of it kept), and so do the calls waiting for it`, async () => {
        const { store } = suite;
        if (store.batch === undefined) return;
        const [first, second, outside] = [fresh('closing-batch'), fresh('closing-batch'), fresh('closing-outside')];
        let go!: () => void;
        const held = new Promise<void>((resolve) => (go = resolve));
        const batch = store.batch(async () => {
          await store.appendToStream(first, [events.enrolled()]);
          if (!callsAfter) await store.appendToStream(second, [events.enrolled()]);
          await held;
          if (callsAfter) await store.appendToStream(second, [events.enrolled()]);
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        const waiting = store.appendToStream(outside, [events.enrolled()]);
        const closing = store.close();
        go();
        const [b, w, c] = await Promise.allSettled([batch, waiting, closing]);
        expect(c!.status).toBe('fulfilled');
        for (const result of [b!, w!]) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(StoreClosedError);
        if (suite.sut.reopen === undefined) return;
        const other = await suite.sut.reopen();
        const kept = b!.status === 'fulfilled' ? 1 : 0;
        expect([await other.streamVersion(first), await other.streamVersion(second), await other.streamVersion(outside)]).toEqual([kept, kept, w!.status === 'fulfilled' ? 1 : 0]);
      });
    }

    it('refuses to work once closed', async () => {
      await suite.store.close();
      await expect(suite.store.readAll()).rejects.toBeInstanceOf(StoreClosedError);
      await expect(suite.store.appendToStream(fresh('closed'), [events.enrolled()])).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
