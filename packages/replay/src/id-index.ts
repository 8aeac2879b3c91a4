/**
 * Where each event id was first seen, for the fold's uniqueness check, kept as 128-bit words: growing ids (UUIDv7) in a
 * sorted run, others in a randomly seeded open-addressed table, non-UUIDs in a Map (design: the package README).
 */
import { uuidWordsInto } from '@hotpatch/store';

/** Slots of 8 int32s (32 bytes, two per cache line): the id's four words, the place + 1 (0: empty), padding. */
const SLOT = 8;

export class IdIndex {
  private table: Int32Array;
  private mask: number;
  private used = 0;
  private readonly others = new Map<string, number>();
  private readonly seed = (Math.random() * 2 ** 32) | 0;
  /** The words of the id being looked up (one array for every look-up, not one per id). */
  private readonly words = new Uint32Array(4);

  /** `expected`: about how many ids will be added (the table grows past it anyway). */
  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.table = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.runLength + this.used + this.others.size;
  }

  /** The place first recorded for `id`, or undefined; records `place` (an integer ≥ 0) when the id is new. */
  firstOrAdd(id: string, place: number): number | undefined {
    return id.length === 36 ? this.firstOrAddAt(id, 0, place) : this.other(id, place);
  }

  /**
   * `firstOrAdd` for the 36 characters of `text` from `at` (the id inside a line, without slicing it out: a
   * caller that knows where the id is spares a string per id).
   */
  firstOrAddAt(text: string, at: number, place: number): number | undefined {
    const words = this.words;
    if (place >= 0x7fffffff || !uuidWordsInto(text, at, words)) return this.other(text.slice(at, at + 36), place);
    // Unsigned words compare in the order of the ids' hex digits; the table keeps them signed.
    const ua = words[0]!;
    const ub = words[1]!;
    const uc = words[2]!;
    const ud = words[3]!;
    const a = ua | 0;
    const b = ub | 0;
    const c = uc | 0;
    const d = ud | 0;
    const run = this.run;
    const n = this.runLength;
    if (n === 0 || compare(ua, ub, uc, ud, run, (n - 1) * RUN) > 0) {
      this.append(ua, ub, uc, ud, place);
      return undefined;
    }
    const inRun = this.search(ua, ub, uc, ud);
    if (inRun !== undefined) return inRun;
    const table = this.table;
    const mask = this.mask;
    for (let slot = hash(this.seed, a, b, c, d) & mask; ; slot = (slot + 1) & mask) {
      const k = slot * SLOT;
      const first = table[k + 4]!;
      if (first === 0) {
        table[k] = a;
        table[k + 1] = b;
        table[k + 2] = c;
        table[k + 3] = d;
        table[k + 4] = place + 1;
        if (++this.used * 2 > mask) this.grow();
        return undefined;
      }
      if (table[k] === a && table[k + 1] === b && table[k + 2] === c && table[k + 3] === d) return first - 1;
    }
  }

  /** The sorted run: ids as four unsigned words and their place (below 2³¹), RUN 32-bit numbers each, in increasing order. */
  private run = new Uint32Array(1024 * RUN);
  private runLength = 0;

  private append(a: number, b: number, c: number, d: number, place: number): void {
    let k = this.runLength * RUN;
    if (k + RUN > this.run.length) {
      const grown = new Uint32Array(this.run.length * 2);
      grown.set(this.run);
      this.run = grown;
    }
    const run = this.run;
    run[k++] = a;
    run[k++] = b;
    run[k++] = c;
    run[k++] = d;
    run[k] = place;
    this.runLength++;
  }

  private search(a: number, b: number, c: number, d: number): number | undefined {
    const run = this.run;
    let lo = 0;
    let hi = this.runLength - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const order = compare(a, b, c, d, run, mid * RUN);
      if (order === 0) return run[mid * RUN + 4];
      if (order > 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private other(id: string, place: number): number | undefined {
    const first = this.others.get(id);
    if (first === undefined) this.others.set(id, place);
    return first;
  }

  private grow(): void {
    const old = this.table;
    const capacity = (this.mask + 1) * 2;
    const table = new Int32Array(capacity * SLOT);
    const mask = capacity - 1;
    for (let k = 0; k < old.length; k += SLOT) {
      if (old[k + 4] === 0) continue;
      let slot = hash(this.seed, old[k]!, old[k + 1]!, old[k + 2]!, old[k + 3]!) & mask;
      while (table[slot * SLOT + 4] !== 0) slot = (slot + 1) & mask;
      table.set(old.subarray(k, k + 5), slot * SLOT);
    }
    this.table = table;
    this.mask = mask;
  }
}

const RUN = 5;

/** The order of the id (a, b, c, d) against the one at `k` in `run`: negative, 0 or positive. */
function compare(a: number, b: number, c: number, d: number, run: Uint32Array, k: number): number {
  return a - run[k]! || b - run[k + 1]! || c - run[k + 2]! || d - run[k + 3]!;
}

/** The id's slot before masking: each word mixed in turn (murmur3's finaliser), from the index's seed. */
function hash(seed: number, a: number, b: number, c: number, d: number): number {
  return mix(mix(mix(mix(seed ^ a) ^ b) ^ c) ^ d);
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}
