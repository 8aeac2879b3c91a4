/** Two lines swapped, told from their positions: one problem, not two. */
import { placeOf } from '../roots.js';
import type { DiagnosedRoot } from './diagnosed-root.js';

/**
 * Two lines swapped: a 'high' outlier and, later, a 'low' one whose position belongs where the first one is. Gives
 * the pair's first root the message for both; maps it to the second, and the second to null. `outliers`: the roots
 * with an outlier, in order.
 */
export function swappedLines(outliers: readonly DiagnosedRoot[]): Map<DiagnosedRoot, DiagnosedRoot | null> {
  const pairs = new Map<DiagnosedRoot, DiagnosedRoot | null>();
  for (let i = 0; i < outliers.length; i++) {
    const high = outliers[i]!;
    if (high.outlier?.kind !== 'high' || high.outlier.after === undefined) continue;
    for (let j = i + 1; j < outliers.length; j++) {
      const low = outliers[j]!;
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
