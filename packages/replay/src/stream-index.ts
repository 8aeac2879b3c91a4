/**
 * The fold's look-up of a stream's record by its name, once per event. A `Map` keyed by the name, over a fleet of
 * thousands, walks its bucket's chain (two entries on average at its load) and reads each entry's key string, each
 * somewhere else in a large heap: cache misses (docs/performance.md, "Issue 21, third pass"). Here a name of up to 20
 * characters, each below 256 (`device/dev-000001`, and the other names of the default tenant's fleets), is kept in its
 * slot of an open-addressed table with its hash and length: one slot read, compared word by word with the name looked
 * up, finds its value. Other names (a named tenant's are longer) go to a `Map`. The hash is seeded at random, as the
 * id index's is, so that names chosen to collide cannot be prepared in advance.
 */
import { grown, mix } from './slot-table.js';

/** Int32s a slot (32 bytes): 0 the value's index + 1 (0: empty), 1 the hash, 2 the length, 3–7 the characters (four a word). */
const SLOT = 8;
const WORDS = 5;
const MAX_CHARS = WORDS * 4;

export class StreamIndex<V> {
  private table: Int32Array;
  private mask: number;
  private readonly values: V[] = [];
  /** Names the table does not hold: longer than 20 characters, or with a character of 256 or more. */
  private readonly others = new Map<string, V>();
  private readonly seed = (Math.random() * 2 ** 32) | 0;
  /** The words of the name being looked up, and how many (one array for every look-up). */
  private readonly words = new Int32Array(WORDS);
  private count = 0;

  /** `expected`: about how many names (the table grows past it anyway); `mixer`: the hash's mixing step (tests give a poor one). */
  constructor(
    expected = 1024,
    private readonly mixer: (x: number) => number = mix,
  ) {
    let capacity = 1024;
    while (capacity * 3 < expected * 4) capacity *= 2;
    this.table = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.values.length + this.others.size;
  }

  /** The value recorded for `name`, or undefined. */
  get(name: string): V | undefined {
    const hash = this.read(name);
    if (hash === undefined) return this.others.get(name);
    const slot = this.find(hash, name.length);
    const at = this.table[slot * SLOT]!;
    return at === 0 ? undefined : this.values[at - 1];
  }

  /** Records `value` for `name` (replacing the one recorded for it, if any). */
  set(name: string, value: V): void {
    const hash = this.read(name);
    if (hash === undefined) {
      this.others.set(name, value);
      return;
    }
    const slot = this.find(hash, name.length);
    const table = this.table;
    const k = slot * SLOT;
    const at = table[k]!;
    if (at !== 0) {
      this.values[at - 1] = value;
      return;
    }
    table[k + 1] = hash;
    table[k + 2] = name.length;
    for (let w = 0; w < this.count; w++) table[k + 3 + w] = this.words[w]!;
    table[k] = this.values.push(value);
    if (this.values.length * 4 > this.mask * 3) this.grow();
  }

  /** Packs `name` into `words` (four characters a word) and gives its hash; undefined for a name the table does not hold. */
  private read(name: string): number | undefined {
    const n = name.length;
    if (n > MAX_CHARS) return undefined;
    const words = this.words;
    let hash = this.seed ^ n;
    let word = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const c = name.charCodeAt(i);
      if (c > 255) return undefined;
      word = (word << 8) | c;
      if ((i & 3) === 3) {
        words[count++] = word;
        hash = this.mixer(hash ^ word);
        word = 0;
      }
    }
    if ((n & 3) !== 0) {
      words[count++] = word;
      hash = this.mixer(hash ^ word);
    }
    this.count = count;
    return hash;
  }

  /** The slot holding the name in `words` (of `length` characters, hashed to `hash`), or the empty slot where it would go. */
  private find(hash: number, length: number): number {
    const table = this.table;
    const words = this.words;
    const count = this.count;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const k = slot * SLOT;
      if (table[k] === 0) return slot;
      if (table[k + 1] !== hash || table[k + 2] !== length) continue;
      let same = true;
      for (let w = 0; w < count; w++) {
        if (table[k + 3 + w] !== words[w]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }

  private grow(): void {
    const old = this.table;
    ({ table: this.table, mask: this.mask } = grown(old, SLOT, 0, (k) => old[k + 1]!));
  }
}
