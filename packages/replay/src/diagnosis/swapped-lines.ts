/** Two lines swapped, told from their positions: one problem, not two. */
import { placeOf } from '../roots.js';
import type { DiagnosedRoot } from './diagnosed-root.js';

/**
 * Two lines swapped: a 'high' outlier and, later, a 'low' one whose position belongs where the first one is (between
 * the high's neighbours) while the high's belongs where the low is (above the position before it). Gives the pair's
 * first root the message for both; maps it to the second, and the second to null. `outliers`: the roots with an
 * outlier, in order.
 *
 * Each high, in order, takes the first later low that fits it and that no high before it took. Each low, in order,
 * taking the first earlier high that it fits and that no low before it took gives the same pairs (both sides rank
 * the other by its place in the log, so there is one stable pairing, and each of the two greedy orders finds it);
 * a low finds its high in a tree of the highs' gaps in O(log² n), so that pairing them all is O(n log² n) whatever
 * the log — comparing every high with every low was O(n²) on a log with positions swapped on every third line.
 */
export function swappedLines(outliers: readonly DiagnosedRoot[]): Map<DiagnosedRoot, DiagnosedRoot | null> {
  const pairs = new Map<DiagnosedRoot, DiagnosedRoot | null>();
  const highs: number[] = [];
  const lows: number[] = [];
  outliers.forEach((root, k) => {
    if (root.outlier?.kind === 'high' && root.outlier.after !== undefined) highs.push(k);
    else if (root.outlier?.kind === 'low') lows.push(k);
  });
  if (highs.length === 0 || lows.length === 0) return pairs;
  // The lows' positions, sorted: the points a high's gap may hold.
  const points = [...new Set(lows.map((k) => outliers[k]!.outlier!.value))].sort((a, b) => a - b);
  const gaps = new GapTree(points.length);
  for (const k of highs) {
    const { before, after, value } = outliers[k]!.outlier!;
    gaps.add(firstIndex(points, (p) => p > before), firstIndex(points, (p) => p >= after!) - 1, k, value);
  }
  gaps.build();
  for (const j of lows) {
    const low = outliers[j]!;
    const k = gaps.first(firstIndex(points, (p) => p >= low.outlier!.value), low.outlier!.before);
    // The first high that fits, if it comes before the low (any other that fits comes after it).
    if (k === undefined || k > j) continue;
    const high = outliers[k]!;
    high.what = `position ${high.outlier!.value} is out of order: this line and ${placeOf(low.at)} (position ${low.outlier!.value}) are swapped`;
    pairs.set(high, low);
    pairs.set(low, null);
    gaps.remove(k);
  }
  return pairs;
}

/** The first index of a sorted array at which `is` holds (it holds from there on), or its length. */
function firstIndex(sorted: readonly number[], is: (value: number) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (is(sorted[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Highs by the range of points their gap holds, each with its value: `first(point, floor)` is the first high (by
 * its number) whose range holds the point and whose value is above the floor. A segment tree over the points: each
 * node keeps the highs whose range covers it whole (each high is in O(log n) nodes), in order, under a tree of
 * their greatest values that finds the first one above a floor in O(log n).
 */
class GapTree {
  private readonly size: number;
  private readonly ids: number[][] = [];
  private readonly values: number[][] = [];
  private readonly maxima: Float64Array[] = [];
  /** Each high's nodes and its slot in each, to remove it. */
  private readonly slots = new Map<number, number[]>();

  constructor(points: number) {
    let size = 1;
    while (size < points) size *= 2;
    this.size = size;
  }

  /** A high holding the points from `lo` to `hi` (none when lo > hi); highs are added in the order of their number. */
  add(lo: number, hi: number, id: number, value: number): void {
    const slots: number[] = [];
    for (let l = lo + this.size, r = hi + this.size + 1; l < r; l >>= 1, r >>= 1) {
      if (l & 1) slots.push(...this.put(l++, id, value));
      if (r & 1) slots.push(...this.put(--r, id, value));
    }
    this.slots.set(id, slots);
  }

  private put(node: number, id: number, value: number): [number, number] {
    const ids = (this.ids[node] ??= []);
    (this.values[node] ??= []).push(value);
    return [node, ids.push(id) - 1];
  }

  /** Builds each node's tree of greatest values, once every high is added. */
  build(): void {
    this.values.forEach((values, node) => {
      let width = 1;
      while (width < values.length) width *= 2;
      const tree = new Float64Array(2 * width).fill(Number.NEGATIVE_INFINITY);
      tree.set(values, width);
      for (let k = width - 1; k >= 1; k--) tree[k] = Math.max(tree[2 * k]!, tree[2 * k + 1]!);
      this.maxima[node] = tree;
    });
  }

  first(point: number, floor: number): number | undefined {
    let first: number | undefined;
    for (let node = point + this.size; node >= 1; node >>= 1) {
      const tree = this.maxima[node];
      if (tree === undefined || !(tree[1]! > floor)) continue;
      const width = tree.length / 2;
      let k = 1;
      while (k < width) k = tree[2 * k]! > floor ? 2 * k : 2 * k + 1;
      const id = this.ids[node]![k - width]!;
      if (first === undefined || id < first) first = id;
    }
    return first;
  }

  remove(id: number): void {
    const slots = this.slots.get(id)!;
    for (let s = 0; s < slots.length; s += 2) {
      const tree = this.maxima[slots[s]!]!;
      const width = tree.length / 2;
      let k = width + slots[s + 1]!;
      tree[k] = Number.NEGATIVE_INFINITY;
      for (k >>= 1; k >= 1; k >>= 1) tree[k] = Math.max(tree[2 * k]!, tree[2 * k + 1]!);
    }
  }
}
