/**
 * Positions out of order, as verify tells them apart: which event of two is out of place (the one whose position is
 * out of line with both its neighbours), and two lines swapped as one problem (see swapped-lines.ts).
 */
import type { HotpatchEvent } from '@hotpatch/core';
import type { DiagnosedRoot } from './diagnosed-root.js';

type ProblemAt = (event: HotpatchEvent, line: number | undefined, index: number, field: string, what: string, more: Partial<DiagnosedRoot>) => DiagnosedRoot;

/** Follows the positions of a log, event by event; reports each one out of order through `problemAt`. */
export class PositionOutliers {
  /** The last position seen, the one before it, and the event that had it (to tell which of two is out of order). */
  private last = 0;
  private before = 0;
  private lastEvent: HotpatchEvent | undefined;
  private lastLine: number | undefined;
  /** A position above both its neighbours, or the next one below it: the position after them tells which. */
  private open: { readonly root: DiagnosedRoot; readonly value: number } | undefined;

  constructor(private readonly problemAt: ProblemAt) {}

  /**
   * Positions must grow. When one does not, the event out of place is the one whose position is out of line with
   * both its neighbours: the one before (moved up) or this one (moved down).
   */
  check(event: HotpatchEvent, line: number | undefined, index: number): void {
    const p = event.position!;
    const last = this.last;
    const open = this.open;
    if (open !== undefined) {
      // The position after an event whose own was above both its neighbours: below that one, it was out of place;
      // above it, it and the event after it are in each other's place.
      this.open = undefined;
      const root = open.root;
      if (p < root.outlier!.value) root.outlier = { ...root.outlier!, or: undefined };
      else root.what = `position ${root.outlier!.value} comes before ${open.value}, on the next line: the two are out of order (swapped?)`;
    }
    if (p > last) {
      this.before = last;
    } else if (p < last && p > this.before && this.lastEvent !== undefined) {
      // Above both its neighbours, the event before is out of place; or this one is, below it and above the one
      // before it: the next position tells which (or, at the end, another problem at either: see finish-diagnosed.ts).
      const order = line ?? event.position ?? index + 1;
      const root = this.problemAt(this.lastEvent, this.lastLine, index - 1, 'position', `position ${last} is out of order: the event before it has ${this.before}, the one after it ${p} (moved?)`, {
        outlier: { kind: 'high', value: last, before: this.before, after: p, or: order },
      });
      this.open = { root, value: p };
    } else {
      // The same position twice: either event may be the one out of place (a copy, say).
      const twice = p === last && this.lastEvent !== undefined ? { or: this.lastLine ?? last } : {};
      this.problemAt(event, line, index, 'position', `position ${p} does not follow ${last}`, { outlier: { kind: 'low', value: p, before: last, ...twice } });
      this.before = last;
    }
    this.last = p;
    this.lastEvent = event;
    this.lastLine = line;
  }
}
