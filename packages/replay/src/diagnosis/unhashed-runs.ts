/** Events without a hash met before the first with one, in a log that carries hashes: one problem per run of them. */
import type { EventLocation } from '@hotpatch/core';

/** How many events without a hash are remembered one by one before the log is known to carry hashes (then counted). */
export const UNHASHED_KEPT = 1_000;
/** Past this many runs of events without a hash (in a log with hashes after them), one problem names them all. */
export const LISTED_RUNS = 10;

/** An event without a hash met before any event with one: a problem if a later event carries a hash. */
export interface Unhashed {
  readonly order: number;
  readonly at: EventLocation;
}

export interface UnhashedRun {
  readonly first: Unhashed;
  last: Unhashed;
  count: number;
}

/** The runs of consecutive events of a stream among `pending`, in order, and each stream's last run. */
export function unhashedRuns(pending: readonly Unhashed[]): { runs: UnhashedRun[]; lastRun: Map<string, UnhashedRun> } {
  const runs: UnhashedRun[] = [];
  const lastRun = new Map<string, UnhashedRun>();
  for (const u of pending) {
    const stream = u.at.stream!;
    const run = lastRun.get(stream);
    if (run !== undefined && run.last.at.version! + 1 === u.at.version) {
      run.last = u;
      run.count++;
    } else {
      const started = { first: u, last: u, count: 1 };
      runs.push(started);
      lastRun.set(stream, started);
    }
  }
  return { runs, lastRun };
}
