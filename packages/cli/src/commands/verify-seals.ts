/** What verify says of a log's seals, in text and in JSON (the seals that fail are also among its problems). */
import type { VerifyReport } from '@hotpatch/replay';
import type { SealVerdict } from '@hotpatch/store';

/** Seals listed one by one up to this many; beyond it, the ones that fail and a count of the others. */
const LISTED = 20;

const short = (id: string) => `${id.slice(0, 16)}…`;
const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;

function sealLine(seal: SealVerdict): string {
  const where = `seal ${seal.sequence} (${seal.stream}@${seal.version}, ${seal.line !== undefined ? `line ${seal.line}` : `position ${seal.position}`})`;
  const covers = `covers ${plural(seal.events, 'event')} in ${plural(seal.streams, 'stream')} up to position ${seal.covers}`;
  return seal.problems.length === 0 ? `  ${where}: ok, ${covers}${seal.signature === 'not checked' ? ' (signature not checked)' : ''}` : `  ${where}: FAILED: ${seal.problems.join('; ')}`;
}

/** Nothing for a log without seals verified without a key (as before seals); otherwise the seals, then what none covers. */
export function sealLines(result: VerifyReport): string[] {
  const { seals, keyId, uncovered, lastCovered } = result.seals;
  if (seals.length === 0) return [];
  const failed = seals.filter((s) => s.problems.length > 0).length;
  const lines = [
    keyId !== undefined
      ? `seals: ${plural(seals.length, 'seal')}, checked with key ${short(keyId)}: ${failed === 0 ? 'every one signed by it and matching the log up to the position it covers' : `${failed} FAILED`}`
      : `seals: ${plural(seals.length, 'seal')}; signatures NOT checked (no --key): their numbers and digests were, ${failed === 0 ? 'and match the log' : `${failed} FAILED`}`,
  ];
  const listed = seals.length <= LISTED ? seals : seals.filter((s) => s.problems.length > 0);
  lines.push(...listed.map(sealLine));
  if (listed.length < seals.length) lines.push(`  (${plural(seals.length - listed.length, 'other seal')} ok; --json lists each)`);
  lines.push(
    uncovered === 0
      ? `covered: every event is at or below position ${lastCovered ?? 0}, the last seal's`
      : `not covered: ${plural(uncovered, 'event')} after position ${lastCovered ?? 0}, the last seal's: no seal shows their change or removal`,
  );
  return lines;
}
