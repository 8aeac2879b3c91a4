/** Given/when/then specifications of the durable stores' cache of folded states. */
import { describe, expect, it } from 'vitest';
import { initialStateFor } from '@hotpatch/core';
import { StateCache } from './state-cache.js';

const state = initialStateFor('device/d');
const given = (limit: number, ...remembered: string[]) => {
  const cache = new StateCache(limit);
  for (const stream of remembered) cache.remember(stream, 1, `hash of ${stream}`, state, 0);
  return {
    whenRemembered: (...more: string[]) => {
      for (const stream of more) cache.remember(stream, 1, `hash of ${stream}`, state, 0);
      return { thenHolds: (...streams: string[]) => expect(['a', 'b', 'c', 'd'].filter((s) => cache.has(s))).toEqual(streams) };
    },
    cache,
  };
};

describe('StateCache', () => {
  it('gives a stream’s state only at the head it was folded at', () => {
    const { cache } = given(10);
    cache.remember('device/d', 4, 'h4', state, 3);
    expect(cache.at('device/d', 4, 'h4')).toMatchObject({ version: 4, hash: 'h4', state, snapshotAt: 3 });
    expect(cache.at('device/d', 4, 'another hash')).toBeUndefined();
    expect(cache.at('device/d', 5, 'h4')).toBeUndefined();
    expect(cache.at('device/other', 4, 'h4')).toBeUndefined();
    cache.delete('device/d');
    expect(cache.get('device/d')).toBeUndefined();
  });

  it('keeps at most its limit: when every entry was used since the last sweep, the oldest goes', () => {
    given(2, 'a', 'b').whenRemembered('c').thenHolds('b', 'c');
  });

  it('gives a stream remembered since the last sweep a second chance', () => {
    given(2, 'a', 'b', 'c').whenRemembered('b', 'd').thenHolds('b', 'd');
  });

  it('a limit of 0 keeps nothing; a limit that is not a whole number ≥ 0 is refused', () => {
    given(0).whenRemembered('a').thenHolds();
    expect(() => new StateCache(-1)).toThrow(/stateCacheSize must be a whole number ≥ 0, not -1/);
    expect(() => new StateCache(1.5)).toThrow(RangeError);
  });
});
