/** A checked run (VERIFIED_HASHES, import's): its hashes taken as given once it chains from the stream's head, refused otherwise. */
import { expect, it } from 'vitest';
import { BrokenChainError, eventHash, GENESIS_HASH, inBatch, VERIFIED_HASHES, type NewEvent, type VerifiedAppendOptions } from '../index.js';
import { events, fresh, type Suite } from './fixtures.js';

/** The hashes a store gives `run` as the first events of `stream`. */
function hashesOf(stream: string, run: readonly NewEvent[]): string[] {
  let prev = GENESIS_HASH;
  return run.map((e, i) => (prev = eventHash(prev, { id: e.id!, stream, version: i + 1, type: e.type, time: e.time, data: e.data })));
}

export function describeVerifiedHashes(suite: Suite): void {
  it('takes a checked run’s hashes once it chains from the stream’s head, and refuses one that does not (in a batch and outside)', async () => {
    // A tenant's view names its streams otherwise than the log, whose names the hashes cover (import writes to a store).
    if (suite.sut.tenantView) return;
    const { store } = suite;
    for (const batched of [false, true]) {
      const stream = fresh(`verified-${batched}`);
      const run = [events.enrolled(), events.assessed()];
      const hashes = hashesOf(stream, run);
      const checked = (prev: string, given: readonly string[], expectedVersion?: number): VerifiedAppendOptions => ({ ...(expectedVersion !== undefined ? { expectedVersion } : {}), [VERIFIED_HASHES]: { prev, hashes: given } });
      const work = async () => {
        await expect(store.appendToStream(stream, run, checked('f'.repeat(64), hashes))).rejects.toThrow(BrokenChainError);
        await expect(store.appendToStream(stream, run, checked(GENESIS_HASH, hashes.slice(1)))).rejects.toThrow(BrokenChainError);
        const written = await store.appendToStream(stream, run, checked(GENESIS_HASH, hashes, 0));
        // Chained from the first event's hash, not from the head's (the second's).
        await expect(store.appendToStream(stream, [events.staged()], checked(hashes[0]!, ['a'.repeat(64)], 2))).rejects.toThrow(BrokenChainError);
        return written;
      };
      const written = batched ? await inBatch(store, work) : await work();
      expect(written.events.map((e) => e.hash)).toEqual(hashes);
      const read = await store.readStream(stream);
      expect(read).toEqual(written.events);
      expect(read.map((e) => e.data)).toEqual(run.map((e) => e.data));
    }
  });
}
