/**
 * A set of strings that answers "surely not in it" or "maybe" (a Bloom filter: 2^26 bits, 8 MB; about 1% false
 * "maybe" at 6.4 million strings, fewer below). Blocked: a string's four bits lie in one 64-byte block, so that adding
 * or looking one up touches one cache line, not four.
 */
const WORDS = 2 ** 21;
/** 16 words of 32 bits: 512 bits a block. */
const BLOCK_WORDS = 16;
const BLOCKS = WORDS / BLOCK_WORDS;

export class IdFilter {
  private readonly words = new Uint32Array(WORDS);

  add(text: string): void {
    hashes(text);
    for (let i = 0; i < 4; i++) {
      const bit = bits[i]!;
      this.words[block + (bit >>> 5)]! |= 1 << (bit & 31);
    }
  }

  /** False: `text` was never added. True: it may have been. */
  mayHold(text: string): boolean {
    hashes(text);
    for (let i = 0; i < 4; i++) {
      const bit = bits[i]!;
      if ((this.words[block + (bit >>> 5)]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

// Where the last string hashed goes: its block's first word and four bits in the block (no array allocated per call).
let block = 0;
const bits = new Uint16Array(4);

/**
 * Two independent 32-bit FNV-1a hashes of the string's code units (the second from another offset basis, mixed
 * further): 17 bits of the first pick the block, 36 bits of both the four bits in it (9 each).
 */
function hashes(text: string): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b ^= b >>> 13;
  block = ((a >>> 0) % BLOCKS) * BLOCK_WORDS;
  bits[0] = b & 511;
  bits[1] = (b >>> 9) & 511;
  bits[2] = (b >>> 18) & 511;
  bits[3] = ((b >>> 27) | ((a >>> 27) << 5)) & 511;
}
