/**
 * clockTime keeps the last plain Date's text (a service reads its clock several times a millisecond): the same time
 * gives the same text, another time its own, and a reading that is not a plain Date is checked every time, whatever
 * was kept.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clockTime, InvalidClockError } from './clock-time.js';

describe('clockTime', () => {
  it('gives toISOString’s text for any valid time, read twice or after another (fast-check, seeded)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 253_402_300_799_999 }), { minLength: 1, maxLength: 8 }), (times) => {
        for (const t of [...times, ...times.reverse()]) {
          expect(clockTime(new Date(t), 'the test clock')).toBe(new Date(t).toISOString());
          expect(clockTime(new Date(t), 'the test clock')).toBe(new Date(t).toISOString());
        }
      }),
      { seed: 22, numRuns: 200 },
    );
  });

  it('a Date of its own kind is not answered from what a plain Date of the same time left', () => {
    const t = Date.UTC(2026, 1, 10, 17);
    class Odd extends Date {
      override toISOString(): string {
        return 'not a time';
      }
    }
    expect(clockTime(new Date(t), 'the test clock')).toBe('2026-02-10T17:00:00.000Z');
    expect(() => clockTime(new Odd(t), 'the test clock')).toThrow(InvalidClockError);
    expect(() => clockTime(new Date(Number.NaN), 'the test clock')).toThrow(/an invalid Date/);
    expect(() => clockTime(new Date(253_402_300_800_000), 'the test clock')).toThrow(/\+010000/);
    expect(clockTime(new Date(t), 'the test clock')).toBe('2026-02-10T17:00:00.000Z');
  });
});
