/**
 * The pieces event schemas are made of: what a field must hold, and the messages that say why a value does not.
 * Each kind of stream has its schemas beside its machine (device/schema.ts, rollout/schema.ts, ring/schema.ts).
 */


export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The two (or four) decimal digits at `at` as a number, or -1 when any is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * True when `time` is an ISO-8601 UTC timestamp of a real instant: `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, with a month
 * that exists, a day that exists in it (leap years counted), hours 00–23, minutes and seconds 00–59. Checked by
 * hand rather than by a regular expression and Date.parse: every event of a timeline goes through here.
 */
export function isIsoUtc(time: unknown): time is string {
  if (typeof time !== 'string') return false;
  const n = time.length;
  if (n < 20 || n > 30 || time.charCodeAt(n - 1) !== 90 /* Z */) return false;
  if (time.charCodeAt(4) !== 45 || time.charCodeAt(7) !== 45 || time.charCodeAt(10) !== 84 || time.charCodeAt(13) !== 58 || time.charCodeAt(16) !== 58) return false;
  const year = digits(time, 0, 4);
  const month = digits(time, 5, 2);
  const day = digits(time, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return false;
  const hour = digits(time, 11, 2);
  const minute = digits(time, 14, 2);
  const second = digits(time, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  if (n === 20) return true;
  // A fraction: a dot and one to nine digits before the Z.
  return time.charCodeAt(19) === 46 && n >= 22 && digits(time, 20, n - 21) >= 0;
}

/** A field's check: a message saying what is wrong with the value, or undefined. */
export interface FieldSpec {
  readonly check: (value: unknown) => string | undefined;
  readonly optional?: boolean;
}
export type EventSchema = Readonly<Record<string, FieldSpec>>;

const spec = (check: (value: unknown) => string | undefined): FieldSpec => ({ check });
const optional = (field: FieldSpec): FieldSpec => ({ ...field, optional: true });

export const field = {
  string: spec((v) => (typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`)),
  nonEmptyString: spec((v) => (typeof v === 'string' && v.length > 0 ? undefined : `expected a non-empty string, got ${describe(v)}`)),
  boolean: spec((v) => (typeof v === 'boolean' ? undefined : `expected true or false, got ${describe(v)}`)),
  nonNegativeInt: spec((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : `expected a whole number ≥ 0, got ${describe(v)}`)),
  isoTime: spec((v) => (isIsoUtc(v) ? undefined : `expected an ISO-8601 UTC time, got ${describe(v)}`)),
  stringArray: spec((v) => {
    if (!Array.isArray(v)) return `expected an array of strings, got ${describe(v)}`;
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string' || v[i] === '') return `item ${i}: expected a non-empty string, got ${describe(v[i])}`;
    return undefined;
  }),
  oneOf: (...values: readonly string[]) => spec((v) => (typeof v === 'string' && values.includes(v) ? undefined : `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`)),
  optional,
  custom: spec,
};
