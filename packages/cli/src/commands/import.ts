import { verifyTimeline } from '@hotpatch/replay';
import { inBatch, type NewEvent } from '@hotpatch/store';
import { CheckFailed, onePositional, parse, UsageError, type CommandSpec } from '../args.js';
import { json } from '../format.js';
import { describeSource, openEventStore, parseStoreSource, readSource } from '../store-source.js';
import { problemLine } from './verify.js';

/** Appends per store transaction on import (where the store groups writes: SQLite). */
const IMPORT_BATCH = 1_000;

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'load a JSONL timeline into a store, after checking all of it',
  usage: `hotpatch import <file.jsonl> --store <source> [--json]

  Checks the whole file first (format, versions, ids, hashes, transitions) and writes nothing if anything is
  wrong. Events keep their ids, times and metadata; the store assigns positions and recomputes hashes, which
  must equal the file's. Importing the same file twice changes nothing (events are recognised by id).`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, json: { type: 'boolean' } });
    const file = onePositional(positionals, 'timeline file');
    if (values.store === undefined) throw new UsageError('--store <source> is required');
    const target = parseStoreSource(values.store as string);
    const input = await readSource(parseStoreSource(file));
    const report = verifyTimeline(input, input.problems);
    if (!report.ok) {
      for (const problem of report.problems) io.out(problemLine(problem));
      throw new CheckFailed(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${file}; nothing imported`);
    }
    const store = await openEventStore(target);
    let written = 0;
    let held = 0;
    try {
      // Consecutive events of one stream go in one append, so that the global order of the file is kept; appends go
      // in transactions of IMPORT_BATCH where the store groups writes (one commit each, not one per append).
      const events = input.events;
      for (let i = 0; i < events.length; ) {
        i = await inBatch(store, async () => {
          for (let n = 0; n < IMPORT_BATCH && i < events.length; n++) {
            const stream = events[i]!.stream;
            let j = i;
            const batch: NewEvent[] = [];
            while (j < events.length && events[j]!.stream === stream) {
              const e = events[j]!;
              batch.push({ id: e.id, type: e.type, time: e.time, data: e.data, ...(e.meta !== undefined ? { meta: e.meta } : {}) });
              j++;
            }
            const result = await store.appendToStream(stream, batch, { expectedVersion: events[i]!.version - 1 });
            if (result.written) written += batch.length;
            else held += batch.length;
            // The append gives the events as recorded, hashes included (a retry's too): no read back.
            const expected = events[j - 1]!.hash;
            if (expected !== undefined && result.events.at(-1)?.hash !== expected) throw new CheckFailed(`${stream}@${result.nextExpectedVersion}: the store's hash differs from the file's`);
            i = j;
          }
          return i;
        });
      }
    } finally {
      await store.close();
    }
    const where = describeSource(target);
    if (values.json) io.out(json({ file, store: where, events: input.events.length, written, alreadyThere: held }));
    else io.out(`imported ${file} into ${where}: ${written} events written, ${held} already there`);
  },
};
