/** A clock's reading as the log's time: what every writer stamps events with, checked where it is read. */
import { HotpatchError } from './errors.js';
import { describe, isIsoUtc } from './schema.js';

/**
 * A clock gave what cannot be an event's time: not a Date, an invalid Date (`new Date(NaN)`, a date parsed from bad
 * text), or one outside the years 0000–9999 that the log's ISO-8601 times can hold. Nothing was written.
 */
export class InvalidClockError extends HotpatchError {
  readonly code = 'INVALID_CLOCK';
  constructor(
    /** Which clock: `the engine's clock`, `the orchestrator's clock`. */
    readonly clock: string,
    /** What it gave, in words. */
    readonly reading: string,
  ) {
    super(`${clock} gave ${reading}, not a time an event can carry (a valid Date in the years 0000–9999); nothing was written`);
  }
}

/** The clock's reading as an ISO-8601 UTC time (`2026-02-10T17:00:00.000Z`), or InvalidClockError naming the clock and what it gave. */
export function clockTime(reading: unknown, clock: string): string {
  if (!(reading instanceof Date)) throw new InvalidClockError(clock, describe(reading));
  const time = reading.getTime();
  // A service reads its clock several times a millisecond (every unit, every decision): the last plain Date's text
  // again, without toISOString and its check.
  const plain = Object.getPrototypeOf(reading) === Date.prototype;
  if (plain && time === last.time) return last.iso;
  if (Number.isNaN(time)) throw new InvalidClockError(clock, 'an invalid Date');
  const iso = reading.toISOString();
  if (!isIsoUtc(iso)) throw new InvalidClockError(clock, `the Date ${iso}`);
  if (plain) {
    last.time = time;
    last.iso = iso;
  }
  return iso;
}

/** The last plain Date's time turned into a valid event time, and its text. */
const last = { time: Number.NaN, iso: '' };
