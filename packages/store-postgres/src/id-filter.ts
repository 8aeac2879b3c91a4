/**
 * A set of event ids that answers "surely not in it" or "maybe" (a Bloom filter: 2^26 bits, 8 MB, four probes;
 * about 1% false "maybe" at 6.4 million ids, fewer below). A batch that began on an empty log keeps the ids it has
 * written in one, so that it asks the database where an id is held only when it may be one of its own.
 */
const BITS = 2 ** 26;

export class IdFilter {
  private readonly bits = new Uint32Array(BITS / 32);

  add(id: string): void {
    const [h1, h2] = hashes(id);
    for (let i = 0; i < 4; i++) {
      const bit = (h1 + i * h2) % BITS;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  /** False: `id` was never added. True: it may have been. */
  mayHold(id: string): boolean {
    const [h1, h2] = hashes(id);
    for (let i = 0; i < 4; i++) {
      const bit = (h1 + i * h2) % BITS;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two independent 32-bit FNV-1a hashes of the string's code units (the second from another offset basis), the second odd. */
function hashes(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return [a >>> 0, (b | 1) >>> 0];
}
