/** A root problem as verify's diagnosis knows it: what the events after it explained, and what it explains. */
import type { Root } from '../roots.js';

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

export interface DiagnosedRoot extends Root {
  /** Later events of its stream that did not chain from the event before them either, and where the chain holds again. */
  unchained?: number;
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
