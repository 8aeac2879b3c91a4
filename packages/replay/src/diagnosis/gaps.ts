/**
 * Gaps in a stream's versions, as the events after them explain them: versions that come later were moved, the
 * others removed. Each late version costs O(1), the words O(k log k) for k late versions, once, when the fold ends
 * (however far apart the versions: a gap from 2 to 2^53 is not walked through).
 */
import type { DiagnosedRoot } from './diagnosed-root.js';

export interface Gap {
  readonly root: DiagnosedRoot;
  /** The version that left the gap, and the versions missing before it. */
  readonly version: number;
  readonly from: number;
  readonly to: number;
  /** The missing versions that came later, in the order they came, and their places. */
  readonly late: Array<{ readonly version: number; readonly place: string }>;
  readonly lateVersions: Set<number>;
}

/** At most this many versions (or ranges of them) are listed in a message; the others are counted. */
const LISTED = 10;

export function gapAt(root: DiagnosedRoot, version: number, expected: number): Gap {
  return { root, version, from: expected, to: version - 1, late: [], lateVersions: new Set() };
}

/** A version below the stream's next: one of the gap's that had not come yet came late (true), or not. */
export function cameLate(gap: Gap, version: number, place: string, order: number): boolean {
  if (version < gap.from || version > gap.to || gap.lateVersions.has(version)) return false;
  gap.late.push({ version, place });
  gap.lateVersions.add(version);
  gap.root.explains!.push(order);
  return true;
}

/** A gap's problem in words. */
export function gapWhat(gap: Gap): string {
  const { late } = gap;
  const versions = late.length === 1 ? 'version' : 'versions';
  // Many versions that came later, in order: as a range.
  const lateText =
    late.length > 3 && late.every((l, k) => l.version === late[0]!.version + k)
      ? `${late[0]!.version}–${late.at(-1)!.version} (${late[0]!.place} to ${late.at(-1)!.place})`
      : listed(
          late.slice(0, LISTED).map((l) => `${l.version} (${l.place})`),
          late.length,
        );
  const missing = gap.to - gap.from + 1 - late.length;
  if (missing === 0) return `version ${gap.version} comes before ${versions} ${lateText}: events out of order (moved or swapped)`;
  const removed = `${missingText(gap, missing)} ${missing === 1 ? 'is' : 'are'} missing (removed?)`;
  return `version ${gap.version} leaves a gap; expected ${gap.from}: ${removed}${late.length > 0 ? `, and ${versions} ${lateText} came later (moved)` : ''}`;
}

/** The versions of the gap that did not come: "version 7", "versions 5–9", "versions 5, 6, 9–12". */
function missingText(gap: Gap, missing: number): string {
  if (missing === gap.to - gap.from + 1) return missing === 1 ? `version ${gap.from}` : `versions ${gap.from}–${gap.to}`;
  // The runs of versions between those that came late.
  const items: string[] = [];
  let shown = 0;
  let from = gap.from;
  for (const v of [...gap.lateVersions, gap.to + 1].sort((a, b) => a - b)) {
    if (v > from && items.length < LISTED) {
      const to = v - 1;
      items.push(to === from ? `${from}` : to === from + 1 ? `${from}, ${to}` : `${from}–${to}`);
      shown += to - from + 1;
    }
    from = v + 1;
  }
  return missing === 1 ? `version ${items[0]}` : `versions ${listed(items, items.length + (missing - shown))}`;
}

/** Items joined, and how many more there are when `total` is more than listed. */
function listed(items: readonly string[], total: number): string {
  return items.join(', ') + (total > items.length ? `, and ${total - items.length} more` : '');
}
