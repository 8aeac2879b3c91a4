/**
 * Root problems: what a fold reports about a timeline. A problem is reported once, where it is, with what it
 * implies for the events after it in its stream in one line — not as one problem per later event of its stream.
 * See docs/events.md, "What verify reports".
 */
import { InvalidEventError, type EventLocation, type HotpatchError } from '@hotpatch/core';

/** A problem found by a fold, open until the fold ends: later events of its stream are counted on it. */
export interface Root {
  /** Where it sorts: the event's line, else its position, else its index + 1. */
  readonly order: number;
  readonly at: EventLocation;
  readonly field: string;
  /** What is wrong (final when the fold ends). */
  what: string;
  /** The error itself when it is not built from `what` (a refused transition, a line that is not an event). */
  readonly error?: HotpatchError;
  /** A line that did not parse: the reader reports it, the fold only says what it implies. */
  readonly external?: boolean;
  /** Later events of its stream not checked because of it (see `FinishedRoots`). */
  unchecked: number;
}

/** The fold's problems, final: each as an error, in order, and what each implies for the rest of its stream. */
export interface FinishedRoots {
  readonly problems: HotpatchError[];
  readonly implications: Map<HotpatchError, string>;
}

/** "3 events", "1 event". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** "line 12", "position 12" or "device/x@3": how a message names another event. */
export function placeOf(at: EventLocation): string {
  return at.line !== undefined ? `line ${at.line}` : at.position !== undefined ? `position ${at.position}` : `${at.stream}@${at.version}`;
}

/** "N later events of S were not checked…": `what` says what they were not checked against, and why. */
export function uncheckedText(root: Root, what: string): string {
  return `${plural(root.unchecked, 'later event')} of ${root.at.stream} ${root.unchecked === 1 ? 'was' : 'were'} not checked${what}`;
}

/** The fold's own implication of a root: after it, the stream's later events are counted, not checked. */
const notFollowed = (root: Root) => (root.unchecked > 0 ? uncheckedText(root, ": the stream's state after this event is unknown, and the fold does not follow it further") : undefined);

/**
 * The roots, final: in order (a stable sort, so roots at one event keep the order they were found in), each as an
 * error (a line that did not parse is its reader's to report: only what it implies is kept), with its implication.
 */
export function finishRoots(roots: readonly Root[], implication: (root: Root) => string | undefined = notFollowed, dropped?: ReadonlySet<Root>): FinishedRoots {
  const problems: HotpatchError[] = [];
  const implications = new Map<HotpatchError, string>();
  for (const root of [...roots].sort((a, b) => a.order - b.order)) {
    if (dropped?.has(root)) continue;
    const error = root.error ?? new InvalidEventError(root.at, root.what, root.field);
    if (!root.external) problems.push(error);
    const implies = implication(root);
    if (implies !== undefined) implications.set(error, implies);
  }
  return { problems, implications };
}
