/** Given/when/then specifications of an append's hash chain, as the PostgreSQL store builds it before writing. */
import { describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH, type NewEvent } from '@hotpatch/store';
import { chain } from './chain.js';

const stream = 'device/d1';
const time = '2026-01-05T08:00:00.000Z';
const ids = ['0193f2a0-0000-7000-8000-000000000001', '0193f2a0-0000-7000-8000-000000000002'];
const batch: NewEvent[] = [
  { type: 'EligibilityAssessed', time, data: { reasons: [], eligible: true } },
  { type: 'PatchStaged', time, data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true }, meta: { by: 'agent-7' } },
];

const given = (version: number, headHash: string | null) => ({
  whenChained: (events: readonly NewEvent[]) => chain(stream, events, ids, version, headHash),
});

describe('chain', () => {
  it('numbers the events after the stream’s version and chains each hash to the one before, from the stream’s last', () => {
    const chained = given(4, 'last hash of the stream').whenChained(batch);
    expect(chained.versions).toEqual([5, 6]);
    const first = eventHash('last hash of the stream', { id: ids[0]!, stream, version: 5, type: 'EligibilityAssessed', time, data: { reasons: [], eligible: true } });
    expect(chained.hashes).toEqual([first, eventHash(first, { id: ids[1]!, stream, version: 6, type: 'PatchStaged', time, data: batch[1]!.data, meta: { by: 'agent-7' } })]);
    expect(chained.recorded.map((e) => e.hash)).toEqual(chained.hashes);
  });

  it('a stream without events chains from the genesis hash', () => {
    expect(given(0, null).whenChained(batch.slice(0, 1)).hashes).toEqual([eventHash(GENESIS_HASH, { id: ids[0]!, stream, version: 1, type: 'EligibilityAssessed', time, data: { reasons: [], eligible: true } })]);
  });

  it('keeps the data and meta as written (meta "null" where none), and records the events as a read gives them, positions to come', () => {
    const chained = given(4, 'h').whenChained(batch);
    expect(chained.dataTexts).toEqual(batch.map((e) => JSON.stringify(e.data)));
    expect(chained.metaTexts).toEqual(['null', '{"by":"agent-7"}']);
    expect(chained.recorded[0]).toEqual({ id: ids[0], stream, version: 5, type: 'EligibilityAssessed', time, data: { reasons: [], eligible: true }, position: 0, hash: chained.hashes[0] });
    expect(chained.recorded[0]).not.toHaveProperty('meta');
    expect(chained.recorded[1]).toMatchObject({ meta: { by: 'agent-7' }, position: 0 });
    expect([chained.types, chained.times]).toEqual([['EligibilityAssessed', 'PatchStaged'], [time, time]]);
  });
});
