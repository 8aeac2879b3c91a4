// Hostile timelines: generated logs changed so that verify finds a problem on every few lines, to see that checking
// them stays near-linear in the number of events. Usage: node bench/hostile.mjs <kind> --events N [--out file.jsonl]
// [--seed S] (without --out, it times verifyFile on the file and prints the number of problems). Kinds:
// - positions: the positions of every third line and the line after it exchanged (two lines out of order, 1 in 3);
// - gaps: the second event of every stream removed (a version gap in every stream);
// - late: one stream's events written last version first (every other version comes late);
// - far: in a log without hashes, a version far ahead (2^53 - 1) in every stream.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eventHash, formatEvent, GENESIS_HASH } from '@hotpatch/store';
import { generateTimeline } from './generate.mjs';

/** A generated log with positions and hashes, as `hotpatch export` writes it. */
function exported(events, seed, devices = Math.max(1, Math.floor(events / 20))) {
  const heads = new Map();
  return generateTimeline({ events, devices, seed }).map((e) => {
    const hash = eventHash(heads.get(e.stream) ?? GENESIS_HASH, e);
    heads.set(e.stream, hash);
    return { ...e, hash };
  });
}

export const HOSTILE_KINDS = ['positions', 'gaps', 'late', 'far'];

/** The lines of a hostile timeline of about `events` events (see the kinds above). */
export function hostileTimeline(kind, events, seed = 1) {
  switch (kind) {
    case 'positions': {
      const log = exported(events, seed);
      for (let i = 0; i + 1 < log.length; i += 3) [log[i], log[i + 1]] = [{ ...log[i], position: log[i + 1].position }, { ...log[i + 1], position: log[i].position }];
      return log.map(formatEvent);
    }
    case 'gaps':
      return exported(events, seed)
        .filter((e) => e.version !== 2)
        .map(formatEvent);
    case 'late': {
      // One device's events, written from the last to the first.
      return exported(events, seed, 1)
        .reverse().map((e, k) => formatEvent({ ...e, position: k + 1 }));
    }
    case 'far':
      // Without hashes (a renumbered event's hash would say which version it was).
      return exported(events, seed).map(({ hash: _, ...e }) => formatEvent(e.version === 2 ? { ...e, version: Number.MAX_SAFE_INTEGER } : e));
    default:
      throw new Error(`no such kind: ${kind} (one of ${HOSTILE_KINDS.join(', ')})`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { events: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' }, out: { type: 'string' } } });
  const [kind = 'positions'] = positionals;
  const lines = hostileTimeline(kind, Number(values.events), Number(values.seed));
  const text = lines.map((l) => l + '\n').join('');
  if (values.out !== undefined) {
    await writeFile(values.out, text);
  } else {
    const { verifyFile } = await import('@hotpatch/replay');
    const dir = await mkdtemp(join(os.tmpdir(), 'hotpatch-hostile-'));
    const file = join(dir, `${kind}.jsonl`);
    await writeFile(file, text);
    const t = process.hrtime.bigint();
    const report = await verifyFile(file);
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(`${kind}: ${lines.length.toLocaleString('en-US')} lines, ${report.problems.length.toLocaleString('en-US')} problems, verified in ${seconds.toFixed(2)} s`);
    await rm(dir, { recursive: true, force: true });
  }
}
