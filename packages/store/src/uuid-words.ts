/**
 * A canonical lower-case UUID read as four 32-bit words (chars 0–7, 9–12 + 14–17, 19–22 + 24–27, 28–35): how the
 * id indexes keep event ids (16 bytes instead of a 36-character string). Read in place, from an offset, so that a
 * caller holding a whole line need not slice the id out.
 */

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;

/** The number written by `count` lower-case hex digits from `from` (a signed 32-bit word for 8); NaN when any is not one. */
function hexWord(text: string, from: number, count: number): number {
  let w = 0;
  let bad = 0;
  for (let i = from; i < from + count; i++) {
    const c = text.charCodeAt(i);
    const d = c < 128 ? HEX[c]! : -1;
    bad |= d;
    w = (w << 4) | d;
  }
  return bad < 0 ? NaN : w;
}

/** Whether the 36 characters of `text` from `at` have a UUID's dashes (8-4-4-4-12). */
function hasUuidDashes(text: string, at = 0): boolean {
  return text.length >= at + 36 && text.charCodeAt(at + 8) === 45 && text.charCodeAt(at + 13) === 45 && text.charCodeAt(at + 18) === 45 && text.charCodeAt(at + 23) === 45;
}

/**
 * The four words of the UUID in `text` from `at`, as unsigned numbers (they compare in the order of the id's hex
 * digits); undefined when those 36 characters are not a lower-case UUID.
 */
export function uuidWords(text: string, at = 0): [number, number, number, number] | undefined {
  const words = SCRATCH;
  return uuidWordsInto(text, at, words) ? [words[0]!, words[1]!, words[2]!, words[3]!] : undefined;
}
/** uuidWords' words before they are returned (read at once: nothing runs in between). */
const SCRATCH = new Uint32Array(4);

/**
 * `uuidWords` written into `words` (false, and `words` left as they were, when the characters are not a lower-case
 * UUID): for a caller that reads an id per event, without an array per id.
 */
export function uuidWordsInto(text: string, at: number, words: Uint32Array): boolean {
  if (!hasUuidDashes(text, at)) return false;
  const a = hexWord(text, at, 8);
  const b1 = hexWord(text, at + 9, 4);
  const b2 = hexWord(text, at + 14, 4);
  const c1 = hexWord(text, at + 19, 4);
  const c2 = hexWord(text, at + 24, 4);
  const d = hexWord(text, at + 28, 8);
  // NaN (not a hex digit) is the one value not equal to itself.
  if (a !== a || b1 !== b1 || b2 !== b2 || c1 !== c1 || c2 !== c2 || d !== d) return false;
  words[0] = a;
  words[1] = (b1 << 16) | b2;
  words[2] = (c1 << 16) | c2;
  words[3] = d;
  return true;
}
