/**
 * The diagnosis's last pass, over its roots once the fold has ended: positions out of order that another problem
 * explains are left out, two lines swapped are one problem, and each root says what it implies. O(n log² n).
 */
import { finishRoots, plural, uncheckedText, type FinishedRoots } from '../roots.js';
import type { DiagnosedRoot } from './diagnosed-root.js';
import { swappedLines } from './swapped-lines.js';

/** The one line saying what a root implies for the rest of its stream, or undefined when it implies nothing more. */
function implication(root: DiagnosedRoot): string | undefined {
  const stream = root.at.stream;
  const parts: string[] = [];
  if (root.alike !== undefined && root.alike.count > 0) parts.push(`${plural(root.alike.count, 'later event')} of ${stream} ${root.alike.what}`);
  const unchained = root.unchained ?? 0;
  if (unchained > 0) {
    parts.push(`${plural(unchained, 'later event')} of ${stream} did not chain from the event before ${unchained === 1 ? 'it' : 'them'} either (not listed)${root.rejoined ? `; the chain holds again from ${root.rejoined}` : ''}`);
  }
  if (root.unchecked > 0) parts.push(uncheckedText(root, " against the lifecycle: the stream's state after this event is unknown"));
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * The diagnosis's problems, final: in order, position problems explained by another root (an event moved within its
 * stream) left out, two swapped lines as one problem; and what each implies.
 */
export function finishDiagnosed(roots: readonly DiagnosedRoot[]): FinishedRoots {
  const sorted = [...roots].sort((a, b) => a.order - b.order);
  // An event with a problem of its own (moved, inserted, copied) explains its position being out of order.
  const explained = new Set<number>();
  for (const root of sorted) {
    if (root.outlier === undefined) explained.add(root.order);
    for (const order of root.explains ?? []) explained.add(order);
  }
  const isExplained = (r: DiagnosedRoot) => explained.has(r.order) || (r.outlier?.or !== undefined && explained.has(r.outlier.or));
  // Two lines swapped are one problem, even when another explains one of them (not both).
  const swaps = swappedLines(sorted.filter((r) => r.outlier !== undefined));
  const dropped = new Set<DiagnosedRoot>();
  for (const r of sorted) {
    if (r.outlier === undefined) continue;
    const other = swaps.get(r);
    if (other === null) dropped.add(r);
    else if (other !== undefined ? isExplained(r) && isExplained(other) : isExplained(r)) dropped.add(r);
  }
  return finishRoots(sorted, implication, dropped);
}
