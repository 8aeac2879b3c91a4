/** The words of the fold's problems (fold.ts), which the diagnosis words the same way, or starts from. */
import { plural } from './roots.js';

export const mismatchText = (computed: string, found: string): string => {
  // Cut where each still shows how they differ: two hashes alike in their first 12 digits (the last digit flipped, a
  // file cut there) read the same cut at 12.
  let same = 0;
  while (same < computed.length && computed[same] === found[same]) same++;
  const cut = (hash: string) => short(hash, Math.max(12, same + 4));
  return `its content does not give its hash (expected ${cut(computed)}, found ${cut(found)})`;
};
export const repeatText = (version: number, expected: number): string => `version ${version} repeats; the stream is at ${expected - 1} (an event inserted, duplicated or moved?)`;
export const gapText = (version: number, expected: number): string => `version ${version} leaves a gap; expected ${expected} (an event removed or moved?)`;
export const missingWhy = (from?: string): string => `while other events of the log carry hashes (${from !== undefined ? `from ${from} on; ` : ''}all must, or none)`;
/** Events without a hash before the first with one (at `from`), as one problem; `streams`: how many streams they are in. */
export const missingBeforeText = (others: number, from: string, streams?: number): string =>
  `missing on this event and the ${plural(others, 'other event')} before ${from} (${streams !== undefined ? `in ${plural(streams, 'stream')}; ` : ''}not listed one by one), ${missingWhy(from)}: none of them can be checked`;
const short = (hash: string, length = 12) => (hash.length > length ? `${hash.slice(0, length)}…` : /^[0-9a-f]{64}$/.test(hash) ? hash : JSON.stringify(hash));
