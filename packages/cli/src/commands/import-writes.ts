/**
 * Import's second pass: the checked file read again and written to the store in one transaction. Its hashes were
 * checked by the first pass (verifyFile), over bytes this read must find again (the same digest, compared before the
 * commit): so each event is parsed once more, but neither validated nor hashed again; the store takes the checked hashes
 * (VERIFIED_HASHES) and still checks versions, ids, transitions and that each run chains from the stream's head.
 */
import type { HotpatchEvent } from '@hotpatch/core';
import { fileDigest, GENESIS_HASH, inBatch, parseEventLine, readLineBatches, VERIFIED_HASHES, type NewEvent, type VerifiedAppendOptions } from '@hotpatch/store';
import { CheckFailed } from '../args.js';
import { openEventStore, type StoreSource } from '../store-source.js';

/** At most this many events of one stream go in one append (a file may hold a long stream in one run). */
const IMPORT_APPEND = 1_000;

/** What the first pass found of the file. */
export interface CheckedFile {
  readonly events: number;
  /** The digest (fileDigest) of the bytes checked: the second read must read the same. */
  readonly digest: string;
  /** Whether the file carries hashes (all checked); if not, the store hashes the events. */
  readonly hashed: boolean;
}

/**
 * The file's events appended to the store in one transaction (the store's batch): consecutive events of one stream
 * in one append, each at the version the file gives it, so that the file's global order is kept and an event the
 * store holds otherwise is refused. Anything that fails rolls all of it back, a file that is not the one checked too.
 */
export async function appendFile(file: string, target: Exclude<StoreSource, { kind: 'jsonl' }>, checked: CheckedFile, progress: Progress | undefined): Promise<{ written: number; held: number }> {
  const store = await openEventStore(target);
  const total = checked.events;
  let written = 0;
  let held = 0;
  try {
    await inBatch(store, async () => {
      let run: NewEvent[] = [];
      let hashes: string[] = [];
      let stream = '';
      let firstVersion = 0;
      let lastHash: string | undefined;
      // Each stream's last hash in the file: the hash its next run chains from.
      const heads = new Map<string, string>();
      const append = async () => {
        if (run.length === 0) return;
        const options: VerifiedAppendOptions = { expectedVersion: firstVersion - 1, ...(checked.hashed ? { [VERIFIED_HASHES]: { prev: heads.get(stream) ?? GENESIS_HASH, hashes } } : {}) };
        const result = await store.appendToStream(stream, run, options);
        if (result.written) written += run.length;
        else held += run.length;
        // The append gives the events as recorded, hashes included (a retry's too): no read back.
        if (lastHash !== undefined && result.events.at(-1)?.hash !== lastHash) throw new CheckFailed(`${stream}@${result.nextExpectedVersion}: the store's hash differs from the file's; nothing imported`);
        if (lastHash !== undefined) heads.set(stream, lastHash);
        run = [];
        hashes = [];
      };
      const digest = fileDigest();
      for await (const { first, texts } of readLineBatches(file, { digest })) {
        for (let i = 0; i < texts.length; i++) {
          const e = reparse(texts[i]!, first + i, file);
          if (e.stream !== stream || run.length === IMPORT_APPEND) {
            await append();
            stream = e.stream;
            firstVersion = e.version;
          }
          // The parsed event is handed over as it is (the store keeps it as recorded): the file's fields, no copy.
          run.push(e.meta !== undefined ? { id: e.id, type: e.type, time: e.time, data: e.data, meta: e.meta } : { id: e.id, type: e.type, time: e.time, data: e.data });
          if (checked.hashed && e.hash === undefined) throw new CheckFailed(changed(file));
          hashes.push(e.hash!);
          lastHash = e.hash;
        }
        progress?.(`import: ${written + held + run.length} of ${total} events (${Math.floor(((written + held + run.length) / Math.max(total, 1)) * 100)}%)`);
      }
      await append();
      // The hashes taken as checked are the file's as the first pass read it, or the import stops here, writing nothing.
      if (digest.digest('hex') !== checked.digest) throw new CheckFailed(changed(file));
      progress?.(`import: ${total} of ${total} events, committing…`, true);
    });
  } finally {
    await store.close();
  }
  return { written, held };
}

/**
 * A line the first pass parsed and validated, parsed again: the same bytes (the digest says so before the commit) give
 * the same valid event, so it is not validated again; a line that no longer parses (the file changed) is refused as
 * the first pass refuses it, naming it. The store checks every event's fields and transitions all the same.
 */
function reparse(text: string, line: number, file: string): HotpatchEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    parseEventLine(text, line, file);
    throw new CheckFailed(changed(file));
  }
  // Valid JSON of another shape (`null`, an event without its stream or hash) can only be a changed file: said so,
  // not as a TypeError from the fields read below.
  const e = value as Partial<HotpatchEvent> | null;
  if (typeof e !== 'object' || e === null || typeof e.stream !== 'string' || typeof e.version !== 'number' || (e.hash !== undefined && typeof e.hash !== 'string')) throw new CheckFailed(changed(file));
  return e as HotpatchEvent;
}

const changed = (file: string): string => `${file} changed while it was imported (it is not the file checked): nothing imported`;

export interface Progress {
  /** Shows `text`, unless a line was shown less than 100 ms ago (`now`: whatever the time). */
  (text: string, now?: boolean): void;
  /** Ends the progress line. */
  done(): void;
}
