import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StreamIndex } from './stream-index.js';

/** Stream names as logs hold them, and names the table must leave to its Map or tell apart by their last characters. */
const name = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 60 }).map((i) => `device/dev-${String(i).padStart(6, '0')}`) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', '/', '\0', '\x01', 'ÿ', 'ā'), maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.nat({ max: 9 }).map((i) => `tenant/acme-corporation/device/dev-${i}`) },
);

/** Each step sets a name to a value or reads one: the index must answer as a Map does. */
const steps = fc.array(fc.tuple(fc.boolean(), name, fc.nat()), { maxLength: 400 });

function replay(index: StreamIndex<number>, sequence: ReadonlyArray<readonly [boolean, string, number]>): void {
  const map = new Map<string, number>();
  for (const [set, key, value] of sequence) {
    if (set) {
      index.set(key, value);
      map.set(key, value);
    } else expect(index.get(key)).toBe(map.get(key));
  }
  for (const key of map.keys()) expect(index.get(key)).toBe(map.get(key));
  expect(index.size).toBe(map.size);
}

describe('StreamIndex', () => {
  it('answers as a Map does, for any sequence of sets and gets (fast-check)', () => {
    fc.assert(
      fc.property(steps, (sequence) => replay(new StreamIndex(4), sequence)),
      { seed: 20261207, numRuns: 300 },
    );
  });

  it('tells names apart by their characters when every hash is the same (a poor mixer: every look-up compares)', () => {
    fc.assert(
      fc.property(steps, (sequence) => replay(new StreamIndex(4, () => 0), sequence)),
      { seed: 20261207, numRuns: 200 },
    );
  });

  it('keeps apart names whose characters would pack alike past 8 bits (a character of 256 or more goes to the Map)', () => {
    for (const mixer of [undefined, () => 0]) {
      const index = new StreamIndex<number>(4, mixer);
      const names = ['\0ā', '\x01\x01', 'aāa', 'ab\x01a', 'device/dev-00000ā', 'device/dev-0000\x01\x01'];
      names.forEach((key, i) => index.set(key, i));
      expect(names.map((key) => index.get(key))).toEqual(names.map((_, i) => i));
    }
  });

  it('grows past its first size, and finds every name after', () => {
    const index = new StreamIndex<number>(4);
    const names = Array.from({ length: 20_000 }, (_, i) => `device/dev-${String(i).padStart(6, '0')}`);
    names.forEach((key, i) => index.set(key, i));
    expect(names.filter((key, i) => index.get(key) !== i)).toEqual([]);
    expect(index.get('device/dev-020000')).toBeUndefined();
    expect(index.size).toBe(20_000);
  });
});
