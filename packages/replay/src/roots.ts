/**
 * Root problems: what a fold reports about a timeline. One change to a log (an event edited, removed, inserted or
 * moved) is reported once, where it is, with what it implies for the events after it in one line — not as one
 * problem per later event of its stream. See docs/events.md, "What verify reports".
 */
import { InvalidEventError, type EventLocation, type HotpatchError } from '@hotpatch/core';

/** A position that is out of order, with its neighbours (to see two lines swapped as one problem). */
export interface PositionOutlier {
  /** 'high': above the positions after it (the event was moved up); 'low': below the one before it. */
  readonly kind: 'high' | 'low';
  readonly value: number;
  /** The positions of the events before and after it (a 'low' outlier's next is not known). */
  readonly before: number;
  readonly after?: number;
  /** The next event (its `order`), when the problem may be its instead (below this one and above the one before). */
  readonly or?: number | undefined;
}

/** A problem found by a fold, open until the fold ends: later events may explain it, or be counted on it. */
export interface Root {
  /** Where it sorts: the event's line, else its position, else its index + 1. */
  readonly order: number;
  readonly at: EventLocation;
  readonly field: string;
  /** What is wrong, as the events after it explained it (final when the fold ends). */
  what: string;
  /** The error itself when it is not built from `what` (a refused transition, a line that is not an event). */
  readonly error?: HotpatchError;
  /** A line that did not parse: the reader reports it, the fold only says what it implies. */
  readonly external?: boolean;
  /** Later events of its stream whose transitions were not checked: the stream's state after it is unknown. */
  unchecked: number;
  /** Later events of its stream that did not chain from the event before them either, and where the chain holds again. */
  unchained: number;
  rejoined?: string;
  /** Later events of its stream with the same change (versions renumbered alike), not reported one by one. */
  readonly alike?: { count: number; readonly what: string };
  /**
   * Other events (their `order`) this problem explains, as it does its own: an out-of-order position there is part
   * of it (an event moved later, the other half of a swap).
   */
  readonly explains?: number[];
  outlier?: PositionOutlier;
}

/** "line 12", "position 12" or "device/x@3": how a message names another event. */
export function placeOf(at: EventLocation): string {
  return at.line !== undefined ? `line ${at.line}` : at.position !== undefined ? `position ${at.position}` : `${at.stream}@${at.version}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The one line saying what a root implies for the rest of its stream, or undefined when it implies nothing more. */
function implication(root: Root): string | undefined {
  const stream = root.at.stream;
  const parts: string[] = [];
  if (root.alike !== undefined && root.alike.count > 0) parts.push(`${plural(root.alike.count, 'later event')} of ${stream} ${root.alike.what}`);
  if (root.unchained > 0) {
    parts.push(`${plural(root.unchained, 'later event')} of ${stream} did not chain from the event before ${root.unchained === 1 ? 'it' : 'them'} either (not listed)${root.rejoined ? `; the chain holds again from ${root.rejoined}` : ''}`);
  }
  if (root.unchecked > 0) {
    parts.push(`${plural(root.unchecked, 'later event')} of ${stream} ${root.unchecked === 1 ? 'was' : 'were'} not checked against the lifecycle: the stream's state after this event is unknown`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * Two lines swapped: a 'high' outlier and, later, a 'low' one whose position belongs where the first one is. Gives
 * the pair's first root the message for both; maps it to the second, and the second to null.
 */
function swappedPositions(roots: readonly Root[]): Map<Root, Root | null> {
  const pairs = new Map<Root, Root | null>();
  for (let i = 0; i < roots.length; i++) {
    const high = roots[i]!;
    if (high.outlier?.kind !== 'high' || high.outlier.after === undefined) continue;
    for (let j = i + 1; j < roots.length; j++) {
      const low = roots[j]!;
      if (low.outlier?.kind !== 'low' || pairs.has(low)) continue;
      if (low.outlier.value > high.outlier.before && low.outlier.value < high.outlier.after && high.outlier.value > low.outlier.before) {
        high.what = `position ${high.outlier.value} is out of order: this line and ${placeOf(low.at)} (position ${low.outlier.value}) are swapped`;
        pairs.set(high, low);
        pairs.set(low, null);
        break;
      }
    }
  }
  return pairs;
}

/**
 * The fold's problems, final: in order, position problems explained by another root (an event moved within its
 * stream) left out, two swapped lines as one problem; and what each implies.
 */
export function finishRoots(roots: readonly Root[]): { problems: HotpatchError[]; implications: Map<HotpatchError, string> } {
  const sorted = [...roots].sort((a, b) => a.order - b.order);
  // An event with a problem of its own (moved, inserted, copied) explains its position being out of order.
  const explained = new Set<number>();
  for (const root of sorted) {
    if (root.outlier === undefined) explained.add(root.order);
    for (const order of root.explains ?? []) explained.add(order);
  }
  const isExplained = (r: Root) => explained.has(r.order) || (r.outlier?.or !== undefined && explained.has(r.outlier.or));
  // Two lines swapped are one problem, even when another explains one of them (not both).
  const swaps = swappedPositions(sorted.filter((r) => r.outlier !== undefined));
  const dropped = new Set<Root>();
  for (const r of sorted) {
    if (r.outlier === undefined) continue;
    const other = swaps.get(r);
    if (other === null) dropped.add(r);
    else if (other !== undefined ? isExplained(r) && isExplained(other) : isExplained(r)) dropped.add(r);
  }
  const problems: HotpatchError[] = [];
  const implications = new Map<HotpatchError, string>();
  for (const root of sorted) {
    if (dropped.has(root)) continue;
    const error = root.error ?? new InvalidEventError(root.at, root.what, root.field);
    if (!root.external) problems.push(error);
    const implies = implication(root);
    if (implies !== undefined) implications.set(error, implies);
  }
  return { problems, implications };
}
