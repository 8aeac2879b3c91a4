/**
 * The one rule for the id a stream's name carries — a device's id, a rollout's (its release's id), a ring's name —
 * checked before anything is written: by every store (the stream name of an append), by the engine (a command's
 * device, rollout or ring) and by the schemas of what comes from outside (commands, agent reports, the policy's rings).
 *
 * An id is a non-empty string of at most 200 characters (Unicode code points) with none of these:
 * - a lone surrogate (U+D800–U+DFFF not in a pair): not text, so a database stores it as U+FFFD, and two ids become
 *   one stream (`a\ud800b` and `a\udfffb`) whose hashes no longer match what was hashed;
 * - a control character (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F): NUL cannot be stored in PostgreSQL text,
 *   and a newline or an escape sequence in an id would forge lines and colours in what prints it;
 * - a Unicode bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069): it makes an id read as
 *   another one.
 * The length keeps a stream name inside a database index's row (PostgreSQL's btree refuses a 1 MB one).
 */
import { Type } from './typebox.js';
import { HotpatchError } from './errors.js';
import { expecting, quoteText } from './schema.js';
import type { StreamKindName } from './stream-kind.js';

/** The longest id, in characters (Unicode code points, as JSON Schema's maxLength counts them). */
export const MAX_ID_LENGTH = 200;

/** The rule in words, for messages and docs. */
export const ID_RULE = `a non-empty string of at most ${MAX_ID_LENGTH} characters, none of them a control character (C0, DEL, C1), a Unicode bidirectional control or a lone surrogate`;

/** The characters an id may not hold, as the inside of a regular expression's class (`u` flag). */
export const ID_FORBIDDEN_CLASS = '\\p{Cc}\\p{Cs}\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069';
/** The characters an id may not hold, as a JSON Schema pattern (ECMA-262 with the `u` flag, as TypeBox and Ajv read it). */
export const ID_PATTERN = `^[^${ID_FORBIDDEN_CLASS}]*$`;
const FORBIDDEN = new RegExp(`[${ID_FORBIDDEN_CLASS}]`, 'u');

/** An id as its schema: its type (a string), its check and its JSON Schema. */
export const StreamIdSchema = expecting(
  ID_RULE,
  Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, pattern: ID_PATTERN, description: `An id that names a stream (a device's, a ring's, a release's): ${ID_RULE}.` }),
);

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

function kindOfCharacter(code: number): string {
  if (code >= 0xd800 && code <= 0xdfff) return 'a lone surrogate';
  if (code <= 0x1f || code === 0x7f) return 'a control character';
  if (code >= 0x80 && code <= 0x9f) return 'a C1 control character';
  return 'a bidirectional control';
}

/** A string's length in Unicode code points, as JSON Schema's minLength and maxLength count it. */
export function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++, n++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** What is wrong with an id, as a predicate (`is empty`, `holds a lone surrogate (U+D800) at character 2`), or undefined when it keeps the rule. */
export function idProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `is not a string (${id === null ? 'null' : typeof id})`;
  if (id.length === 0) return 'is empty';
  if (id.length > MAX_ID_LENGTH) {
    const length = codePoints(id);
    if (length > MAX_ID_LENGTH) return `is ${length} characters long`;
  }
  const found = FORBIDDEN.exec(id);
  if (found === null) return undefined;
  const code = found[0].charCodeAt(0);
  return `holds ${kindOfCharacter(code)} (${hex(code)}) at character ${codePoints(id.slice(0, found.index)) + 1}`;
}

/** An id as a message quotes it: escaped (see `quoteText`), and cut at `max` UTF-16 units with its length said. */
export function quoteId(id: string, max = 60): string {
  return id.length > max ? `${quoteText(id.slice(0, max)).slice(0, -1)}…" (${id.length} UTF-16 units)` : quoteText(id);
}

/** A device, rollout or ring id that breaks the id rule (see stream-id.ts); nothing was written. */
export class InvalidIdError extends HotpatchError {
  readonly code = 'INVALID_ID';
  constructor(
    readonly kind: StreamKindName,
    readonly id: string,
    /** What breaks the rule (`is empty`, `holds a lone surrogate (U+D800) at character 2`, `is 1048576 characters long`). */
    readonly problem: string,
  ) {
    super(`${kind} id ${quoteId(id)} ${problem}; an id is ${ID_RULE}`);
  }
}

/** Throws InvalidIdError unless `id` keeps the id rule. */
export function checkId(kind: StreamKindName, id: unknown): asserts id is string {
  const problem = idProblem(id);
  if (problem !== undefined) throw new InvalidIdError(kind, typeof id === 'string' ? id : String(id), problem);
}
