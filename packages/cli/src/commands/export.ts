import type { HotpatchEvent } from '@hotpatch/core';
import { formatEvent, writeFileAtomically } from '@hotpatch/store';
import { CheckFailed, parse, UsageError, type CommandSpec } from '../args.js';
import { eachStorePage, parseStoreSource, readSource } from '../store-source.js';
import { problemLine } from './verify.js';

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'write a store’s events as a JSONL timeline, with positions and hashes',
  usage: `hotpatch export --store <source> [--out file.jsonl]

  Writes every event in global order, one canonical JSON line each, with its position and hash (to standard
  output without --out). Exporting, importing into an empty store and exporting again gives the same bytes.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, out: { type: 'string' } });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    if (values.store === undefined) throw new UsageError('--store <source> is required');
    const source = parseStoreSource(values.store as string);
    // A store's log page by page (never held whole; its events were checked as they were appended); a timeline
    // file whole, checked first.
    const eachPage = async (fn: (events: readonly HotpatchEvent[]) => Promise<void> | void): Promise<number> => {
      if (source.kind !== 'jsonl') return eachStorePage(source, fn);
      const input = await readSource(source);
      if (input.problems.length) throw new CheckFailed(`cannot export an invalid timeline: ${problemLine(input.problems[0]!)}`);
      await fn(input.events);
      return input.events.length;
    };
    const out = values.out as string | undefined;
    if (out === undefined) {
      await eachPage((events) => {
        for (const e of events) io.out(formatEvent(e));
      });
      return;
    }
    // All or nothing: a store that cannot be read, or a failure half-way, leaves an existing file as it was.
    const exported = await writeFileAtomically(out, (file) =>
      eachPage(async (events) => {
        let text = '';
        for (const e of events) {
          text += formatEvent(e) + '\n';
          if (text.length >= 1 << 20) {
            await file.write(text);
            text = '';
          }
        }
        if (text) await file.write(text);
      }),
    );
    io.err(`exported ${exported} events to ${out}`);
  },
};
