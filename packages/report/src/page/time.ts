/** Times on the axis: offsets in ms after the report's base, and the state a band gives at one. */
import type { ReportData } from '../model.js';

export interface Axis {
  readonly from: number;
  readonly to: number;
  /** The x of a time, for a chart `width` wide starting at `left` (a time off the axis: at its edge). */
  x(t: number): number;
  /** Whether a time is on the axis: a mark off it is not drawn (at the edge it would tell another time). */
  has(t: number): boolean;
  readonly left: number;
  readonly width: number;
}

export function axis(data: ReportData, left: number, width: number): Axis {
  const [from, to] = data.window;
  const span = Math.max(1, to - from);
  return { from, to, left, width, x: (t) => left + ((Math.min(Math.max(t, from), to) - from) / span) * width, has: (t) => t >= from && t <= to };
}

export const isoOf = (data: ReportData, t: number): string => new Date(Date.parse(data.base) + t).toISOString().replace('.000Z', 'Z');
/** A date, a time to the minute or finer, and a zone: `Z`, an offset, or none (UTC, as every time the page shows). */
const TYPED_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]\d{2}:\d{2})?$/i;

/** A typed time as an offset (NaN: not a time). Date.parse alone reads a time without a zone as the reader's local time. */
export const offsetOf = (data: ReportData, typed: string): number => {
  const m = TYPED_TIME.exec(typed);
  if (m === null) return NaN;
  return Date.parse(`${m[1]}T${m[2] ?? '00:00'}${(m[3] ?? 'Z').toUpperCase()}`) - Date.parse(data.base);
};
export const minute = (data: ReportData, t: number): string => isoOf(data, t).slice(0, 16).replace('T', ' ');

/**
 * A band's state index at `t`: that of its last step at or before `t` (`replay --at`: a device's events up to that
 * time), or -1 before its first.
 */
export function stateAt(steps: readonly number[], t: number): number {
  let lo = 0;
  let hi = steps.length / 2 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[2 * mid]! <= t) {
      found = steps[2 * mid + 1]!;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
