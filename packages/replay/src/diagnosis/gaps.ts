/** Gaps in a stream's versions, as the events after them explain them: versions that come later were moved, the others removed. */
import type { DiagnosedRoot } from './diagnosed-root.js';

export interface Gap {
  readonly root: DiagnosedRoot;
  /** The version that left the gap, and the versions missing before it. */
  readonly version: number;
  readonly from: number;
  readonly to: number;
  /** The missing versions that came later, in the order they came, and their places. */
  readonly late: Array<{ readonly version: number; readonly place: string }>;
}

export function gapAt(root: DiagnosedRoot, version: number, expected: number): Gap {
  const gap = { root, version, from: expected, to: version - 1, late: [] };
  root.what = gapWhat(gap);
  return gap;
}

/** A version below the stream's next: one of the gap's that had not come yet came late (true), or not. */
export function cameLate(gap: Gap, version: number, place: string, order: number): boolean {
  if (version < gap.from || version > gap.to || gap.late.some((l) => l.version === version)) return false;
  gap.late.push({ version, place });
  gap.root.explains!.push(order);
  gap.root.what = gapWhat(gap);
  return true;
}

/** A gap's problem in words. */
export function gapWhat(gap: Gap): string {
  const missing: number[] = [];
  for (let v = gap.from; v <= gap.to; v++) if (!gap.late.some((l) => l.version === v)) missing.push(v);
  const span = (vs: readonly number[]) => (vs.length === 1 ? `version ${vs[0]}` : vs.length === gap.to - gap.from + 1 ? `versions ${gap.from}–${gap.to}` : `versions ${vs.join(', ')}`);
  // Many versions that came later, in order: as a range.
  const late =
    gap.late.length > 3 && gap.late.every((l, k) => l.version === gap.late[0]!.version + k)
      ? `${gap.late[0]!.version}–${gap.late.at(-1)!.version} (${gap.late[0]!.place} to ${gap.late.at(-1)!.place})`
      : gap.late.map((l) => `${l.version} (${l.place})`).join(', ');
  if (missing.length === 0) return `version ${gap.version} comes before version${gap.late.length === 1 ? '' : 's'} ${late}: events out of order (moved or swapped)`;
  const removed = `${span(missing)} ${missing.length === 1 ? 'is' : 'are'} missing (removed?)`;
  return `version ${gap.version} leaves a gap; expected ${gap.from}: ${removed}${gap.late.length > 0 ? `, and version${gap.late.length === 1 ? '' : 's'} ${late} came later (moved)` : ''}`;
}
