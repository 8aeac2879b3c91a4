/** What the fold's open-addressed tables of int32 slots share (id-index.ts, stream-index.ts). */

/**
 * The table twice as large, each used slot of `old` (`slot` int32s each) moved to the first free slot from the one
 * `home` gives it (before masking), by linear probing. `used`: the offset in a slot that is 0 when the slot is free.
 */
export function grown(old: Int32Array, slot: number, used: number, home: (k: number) => number): { table: Int32Array; mask: number } {
  const capacity = (old.length / slot) * 2;
  const table = new Int32Array(capacity * slot);
  const mask = capacity - 1;
  for (let k = 0; k < old.length; k += slot) {
    if (old[k + used] === 0) continue;
    let at = home(k) & mask;
    while (table[at * slot + used] !== 0) at = (at + 1) & mask;
    table.set(old.subarray(k, k + slot), at * slot);
  }
  return { table, mask };
}

/** murmur3's finaliser: mixes a 32-bit word. */
export function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}
