/**
 * The pieces schemas are made of. A schema is a TypeBox type: a JSON Schema object that also gives its TypeScript
 * type (`Shape<typeof S>`) and compiles to a check (schema-check.ts). Each kind's events are defined in its folder.
 */
import { Type } from './typebox.js';
import type { Static, TEnum, TSchema } from 'typebox';

// What JSON.stringify leaves as it is but a terminal acts on: C1 controls and Unicode bidirectional controls.
const UNSAFE = /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text quoteText as JSON, with the characters JSON leaves raw that a terminal would act on escaped too (\u202e). */
export const quoteText = (text: string): string => JSON.stringify(text).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** How a message names a value: its type and, for short values, the value itself. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return quoteText(value.length > 40 ? value.slice(0, 40) + '…' : value);
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
 * hand: IsoTime's fast path (every event of a timeline goes through here); a property test holds them together.
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

/** A type made readonly all the way down: how the domain holds what a schema describes. */
export type ReadonlyDeep<T> = T extends readonly (infer U)[]
  ? readonly ReadonlyDeep<U>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> }
    : T;

/** The TypeScript type of what a schema accepts, readonly. */
export type Shape<S extends TSchema> = ReadonlyDeep<Static<S>>;

/**
 * Names what a schema expects, for messages ("expected a lower-case UUID"), where its keywords alone would say
 * less. Kept off the JSON Schema (not enumerable), and carried by TypeBox's copies (Optional).
 */
export function expecting<S extends TSchema>(noun: string, schema: S): S {
  return Object.defineProperty(schema, '~expected', { value: noun, enumerable: false });
}

/** The one layout of a time on the log: `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`; `format: date-time` checks the calendar. */
export const ISO_UTC_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,9})?Z$';
export const isoTime = (description?: string) =>
  expecting('an ISO-8601 UTC time like 2026-01-13T09:00:00.000Z', Type.String({ format: 'date-time', pattern: ISO_UTC_PATTERN, ...(description ? { description } : {}) }));
export const IsoTime = isoTime();
export const NonEmptyString = Type.String({ minLength: 1 });
/** Free text: a reason, a signal (may be empty). */
export const Text = Type.String();
export const WholeNumber = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const NonNegativeNumber = Type.Number({ minimum: 0 });
/** A share of something, 0–1. */
export const Share = Type.Number({ minimum: 0, maximum: 1 });
export const StringList = Type.Array(NonEmptyString);
export const oneOf = <const V extends string[]>(...values: V): TEnum<V> => Type.Enum<V>(values);
