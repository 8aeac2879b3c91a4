import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uuidWords, uuidWordsInto } from './uuid-words.js';

describe('uuidWords', () => {
  it('property: the words are the id’s 32 hex digits, four at a time, read in place', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.string({ maxLength: 5 }), (id, before) => {
        const digits = id.replaceAll('-', '');
        const expected = [0, 8, 16, 24].map((i) => Number.parseInt(digits.slice(i, i + 8), 16));
        expect(uuidWords(id)).toEqual(expected);
        expect(uuidWords(`${before}${id}"`, before.length)).toEqual(expected);
        const words = new Uint32Array(4);
        expect(uuidWordsInto(`${before}${id}"`, before.length, words)).toBe(true);
        expect([...words]).toEqual(expected);
      }),
      { seed: 20261126, numRuns: 500 },
    );
  });

  it('has no words for what is not a lower-case UUID', () => {
    const id = '019b0a0e-7c3a-7f21-9d4e-2b8c6a1f0e37';
    expect(uuidWords(id)).toBeDefined();
    for (const bad of [id.toUpperCase(), id.replace('-', '_'), id.slice(0, 35), `${id.slice(0, 20)}g${id.slice(21)}`, `${id.slice(0, 10)}-${id.slice(11)}`]) {
      expect(uuidWords(bad), bad).toBeUndefined();
      const words = Uint32Array.of(1, 2, 3, 4);
      expect(uuidWordsInto(bad, 0, words), bad).toBe(false);
      expect([...words]).toEqual([1, 2, 3, 4]);
    }
  });
});
