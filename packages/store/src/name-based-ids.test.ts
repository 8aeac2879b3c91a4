import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { nameBasedIds, timedNameBasedIds, timeOfId } from './name-based-ids.js';

/** Any namespace will do: the engine's, say. */
const NAMESPACE = '6f1c2a8e-3b7d-4f0a-9c55-1d2e8b7a4c90';

describe('nameBasedIds', () => {
  it('gives the uuid package’s v5 ids for any name and namespace (fast-check)', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.string({ unit: 'grapheme', maxLength: 60 }), (namespace, name) => {
        expect(nameBasedIds(namespace)(name)).toBe(uuidv5(name, namespace));
      }),
      { seed: 20261125, numRuns: 500 },
    );
    expect(nameBasedIds(NAMESPACE)('cmd#1')).toBe(uuidv5('cmd#1', NAMESPACE));
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => nameBasedIds('not-a-uuid')).toThrow(TypeError);
  });
});

describe('timedNameBasedIds', () => {
  const timed = timedNameBasedIds(NAMESPACE);
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('the same time and name give the same id; the time leads it, so ids sort by time (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (t1, t2, a, b) => {
        const x = timed(t1, a);
        expect(x).toMatch(UUID);
        expect(timed(t1, a)).toBe(x);
        expect(timeOfId(x)).toBe(t1);
        // Its last 74 bits are the name-based id's: different names at one time give different ids.
        expect(x.slice(15)).toBe(nameBasedIds(NAMESPACE)(a).slice(15));
        if (t1 < t2) expect(x < timed(t2, b)).toBe(true);
      }),
      { seed: 20261126, numRuns: 500 },
    );
    expect(() => timed(-1, 'x')).toThrow(RangeError);
    expect(() => timed(2 ** 48, 'x')).toThrow(RangeError);
    expect(timeOfId(nameBasedIds(NAMESPACE)('x'))).toBeUndefined();
    expect(timeOfId('019b8d2b-8c00-71ab-83c0-e086ebe647f7')).toBe(0x019b8d2b8c00); // a UUIDv7's time too
  });

});
