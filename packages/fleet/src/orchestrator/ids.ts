/** Ids derived from what each event means, so that a retry, a restart or a second instance writes nothing twice. */
import { nameBasedIds, timedNameBasedIds } from '@hotpatch/engine';

const NAMESPACE = '9d4b8f2e-6a1c-4e3b-8f7d-2c5a1b9e0d47';
const named = nameBasedIds(NAMESPACE);
const timed = timedNameBasedIds(NAMESPACE);

/**
 * A name-based id led by a time every instance agrees on (a release's date; a report id's own time), so that the
 * ids written together lie together in the store's index on ids; a plain name-based one when no time is known.
 */
export function idAt(at: string | number | undefined, ...parts: string[]): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at;
  return ms === undefined || !Number.isSafeInteger(ms) || ms < 0 ? named(parts.join('|')) : timed(ms, parts.join('|'));
}
