/** Given/when/then specifications of the Bloom filter a store keeps of the log's ids and streams. */
import { describe, expect, it } from 'vitest';
import { IdFilter } from './id-filter.js';

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `0193f2a0-${prefix}-7000-8000-${String(i).padStart(12, '0')}`);

const given = (added: readonly string[]) => {
  const filter = new IdFilter();
  for (const id of added) filter.add(id);
  return { whenAsked: (asked: readonly string[]) => asked.filter((id) => filter.mayHold(id)) };
};

describe('IdFilter', () => {
  it('may hold every string added: never a false "surely not"', () => {
    const added = [...ids('aaaa', 50_000), '', 'device/pc-42', '\u0000device/pc-42', 'é ü 😀'];
    expect(given(added).whenAsked(added)).toEqual(added);
  });

  it('says "surely not" of nearly every string not added, at 640,000 strings (a tenth of the size it is made for)', () => {
    const others = ids('bbbb', 100_000);
    // Expected about 1 in 100,000 here; 1% at 6.4 million strings.
    expect(given(ids('aaaa', 640_000)).whenAsked(others).length).toBeLessThan(20);
  });

  it('an empty filter holds nothing, and strings that differ in one character are told apart', () => {
    expect(given([]).whenAsked(['', 'a', ...ids('cccc', 1_000)])).toEqual([]);
    expect(given(['device/pc-1']).whenAsked(['device/pc-2', 'device/pc-10', 'device/pc-1 ', 'Device/pc-1'])).toEqual([]);
  });
});
