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

export { events, type StoreUnderTest } from './conformance/fixtures.js';

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

    it('refuses to work once closed', async () => {
      await suite.store.close();
      await expect(suite.store.readAll()).rejects.toBeInstanceOf(StoreClosedError);
      await expect(suite.store.appendToStream(fresh('closed'), [events.enrolled()])).rejects.toBeInstanceOf(StoreClosedError);
    });
  });
}
