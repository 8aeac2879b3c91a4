/** Times on the axis: offsets in ms after the report's base, and the state a band gives at one. */
import type { ReportData } from '../model.js';

export interface Axis {
  readonly from: number;
  readonly to: number;
  /** The x of a time, for a chart `width` wide starting at `left`. */
  x(t: number): number;
  readonly left: number;
  readonly width: number;
}

export function axis(data: ReportData, left: number, width: number): Axis {
  const [from, to] = data.window;
  const span = Math.max(1, to - from);
  return { from, to, left, width, x: (t) => left + ((Math.min(Math.max(t, from), to) - from) / span) * width };
}

export const isoOf = (data: ReportData, t: number): string => new Date(Date.parse(data.base) + t).toISOString().replace('.000Z', 'Z');
export const offsetOf = (data: ReportData, iso: string): number => Date.parse(iso) - Date.parse(data.base);
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
