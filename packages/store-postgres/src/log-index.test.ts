/** Given/when/then specifications of what a store knows of the log: the ids and streams in it, and which cached heads are exact. */
import { describe, expect, it } from 'vitest';
import { initialStateFor } from '@hotpatch/core';
import { StateCache } from '@hotpatch/store';
import { INDEX_SCAN, LogIndex } from './log-index.js';

const state = initialStateFor('device/a');
const head = (version: number) => ({ version, hash: `hash-${version}`, state });

/** An index caught up with a log of `rows` (stream, id), whose last position is rows.length. */
const given = (rows: Array<[string, string]>) => {
  const index = new LogIndex(new StateCache(100));
  const caughtUp = index.caughtUp(rows, rows.length);
  return { index, caughtUp };
};

describe('LogIndex', () => {
  it('caught up with the log, says which ids and streams it surely does not hold', () => {
    const { index, caughtUp } = given([
      ['device/a', 'id-1'],
      ['device/a', 'id-2'],
      ['rollout/r', 'id-3'],
    ]);
    expect(caughtUp).toBe(true);
    expect(['id-1', 'id-2', 'id-3', 'id-4'].map((id) => index.mayHoldId(id))).toEqual([true, true, true, false]);
    expect(['device/a', 'rollout/r', 'device/b'].map((s) => index.mayHoldStream(s))).toEqual([true, true, false]);
    // A stream's name is not taken for an id, nor an id for a stream.
    expect([index.mayHoldId('device/a'), index.mayHoldStream('id-1')]).toEqual([false, false]);
  });

  it('before anything is read, and over a log longer than one catch-up reads, holds everything maybe', () => {
    const index = new LogIndex(new StateCache(100));
    expect([index.from, index.mayHoldId('id-1'), index.mayHoldStream('device/a')]).toEqual([0, true, true]);
    expect(index.caughtUp([['device/a', 'id-1']], INDEX_SCAN + 1)).toBe(false);
    expect(index.from).toBe(INDEX_SCAN);
    expect(index.caughtUp([['device/b', 'id-2']], INDEX_SCAN + 1)).toBe(true);
    expect(index.from).toBe(INDEX_SCAN + 1);
  });

  it('a cached head is exact once a batch that knew it committed, until the stream is written again', () => {
    const heads = new StateCache(100);
    const index = new LogIndex(heads);
    index.caughtUp([], 0);
    index.committed(new Map([['device/a', head(3)]]), true, 3);
    expect(index.exactHead('device/a')).toMatchObject({ version: 3, hash: 'hash-3' });
    expect(index.from).toBe(3);
    // Another writer appends to it: the next catch-up reads its event.
    expect(index.caughtUp([['device/a', 'id-4']], 4)).toBe(true);
    expect(index.exactHead('device/a')).toBeUndefined();
  });

  it('a head this store caches outside a batch, or one a batch writes, is not exact; a stream without events is never cached', () => {
    const heads = new StateCache(100);
    const index = new LogIndex(heads);
    index.committed(
      new Map([
        ['device/a', head(3)],
        ['device/b', head(5)],
        ['device/new', { version: 0, hash: null, state }],
      ]),
      true,
      8,
    );
    heads.remember('device/a', 4, 'hash-4', state, 4);
    index.unmark('device/b');
    expect([index.exactHead('device/a'), index.exactHead('device/b'), index.exactHead('device/new')]).toEqual([undefined, undefined, undefined]);
  });

  it('a log shorter than the index is another log: it starts again from the first position', () => {
    const { index } = given([
      ['device/a', 'id-1'],
      ['device/a', 'id-2'],
    ]);
    expect(index.caughtUp([], 1)).toBe(false);
    expect([index.from, index.mayHoldId('id-9')]).toEqual([0, true]);
  });

  it('ids and streams a batch appends are held maybe from then on, committed or not', () => {
    const { index } = given([]);
    index.addStream('device/c');
    index.addIds(['id-7', 'id-8']);
    expect([index.mayHoldStream('device/c'), index.mayHoldId('id-7'), index.mayHoldId('id-8'), index.mayHoldId('id-9')]).toEqual([true, true, true, false]);
  });
});
