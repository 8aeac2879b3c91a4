import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { HotpatchError } from '@hotpatch/core';
import { verifyFile } from '@hotpatch/replay';
import { inBatch, type NewEvent } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { CheckFailed, onePositional, parse, UsageError, type CommandSpec, type Output } from '../args.js';
import { json } from '../format.js';
import { describeSource, openEventStore, parseStoreSource } from '../store-source.js';
import { mustExist, timelineEvents } from '../timeline-input.js';
import { problemLine } from './verify.js';

/** At most this many events of one stream go in one append (a file may hold a long stream in one run). */
const IMPORT_APPEND = 1_000;

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'load a JSONL timeline into a store, after checking all of it',
  usage: `hotpatch import <file.jsonl> --store <source> [--json]

  Checks the whole file first (format, versions, ids, hashes, transitions), then writes it in one transaction:
  all of it or, if anything fails (an event that conflicts with what the store holds, the connection lost, another
  writer), nothing. The file is read twice, line by line, never held in memory whole. Events keep their ids, times
  and metadata; the store assigns positions and recomputes hashes, which must equal the file's. Importing the same
  file twice changes nothing (events are recognised by id). While it writes, the store's other writers wait (SQLite:
  up to their busy timeout, then fail writing nothing). On a terminal, progress goes to stderr.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, json: { type: 'boolean' } });
    const file = onePositional(positionals, 'timeline file');
    if (values.store === undefined) throw new UsageError('--store <source> is required');
    if (parseStoreSource(file).kind !== 'jsonl') throw new UsageError(`${file}: import reads a timeline file; export a store to one first`);
    const target = parseStoreSource(values.store as string);
    if (target.kind === 'jsonl') throw new UsageError(`--store ${target.path}: a timeline file is not a store; use sqlite:path or postgres://…`);
    await mustExist(file);
    const asJson = values.json === true;
    const where = describeSource(target);
    const progress = terminalProgress(io);
    progress?.(`import: checking ${file}…`, true);
    const report = await verifyFile(file);
    progress?.done();
    if (!report.ok) {
      if (asJson) io.out(json({ ok: false, file, events: report.events, problems: report.problems.map((p) => ({ code: p.code, message: problemLine(p) })) }));
      else for (const problem of report.problems) io.out(problemLine(problem));
      throw new CheckFailed(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${file}; nothing imported`);
    }
    let result: { written: number; held: number };
    // A SQLite file this import creates is removed again if the import fails: it would be an empty store.
    const created = target.kind === 'sqlite' && !existsSync(target.path) ? target.path : undefined;
    try {
      result = await importFile(file, target, report.events, progress);
    } catch (error) {
      progress?.done();
      if (created !== undefined) await removeEmptyStore(created);
      const failure = notImported(error);
      if (asJson) io.out(json({ ok: false, file, store: where, error: { ...(error instanceof HotpatchError ? { code: error.code } : {}), message: failure.message } }));
      throw failure;
    }
    progress?.done();
    if (asJson) io.out(json({ ok: true, file, store: where, events: report.events, written: result.written, alreadyThere: result.held }));
    else io.out(`imported ${file} into ${where}: ${result.written} events written, ${result.held} already there`);
  },
};

/**
 * A refusal or failure while writing, in one line that says what became of the import: nothing of it was written (it
 * is one transaction), unless the connection broke during the commit, when nobody can know (the error says so, and
 * importing again is safe: what is there is recognised by id). Anything else is not the user's doing: as it is.
 */
function notImported(error: unknown): Error {
  if (error instanceof CheckFailed) return error;
  if (!(error instanceof HotpatchError)) return error as Error;
  if (error.code === 'CONNECTION_LOST' && (error as { operation?: string }).operation === 'batch commit') return new CheckFailed(`${error.message}; importing the file again is safe: events already there are recognised by id`);
  return new CheckFailed(`${error.message}; nothing imported`);
}

/**
 * The file's events appended to the store in one transaction (the store's batch): consecutive events of one stream
 * in one append, each at the version the file gives it, so that the file's global order is kept and an event the
 * store holds otherwise is refused. Anything that fails rolls all of it back. Read a batch of lines at a time.
 */
async function importFile(file: string, target: ReturnType<typeof parseStoreSource>, total: number, progress: Progress | undefined): Promise<{ written: number; held: number }> {
  const store = await openEventStore(target);
  let written = 0;
  let held = 0;
  try {
    await inBatch(store, async () => {
      let run: NewEvent[] = [];
      let stream = '';
      let firstVersion = 0;
      let lastHash: string | undefined;
      const append = async () => {
        if (run.length === 0) return;
        const result = await store.appendToStream(stream, run, { expectedVersion: firstVersion - 1 });
        if (result.written) written += run.length;
        else held += run.length;
        // The append gives the events as recorded, hashes included (a retry's too): no read back.
        if (lastHash !== undefined && result.events.at(-1)?.hash !== lastHash) throw new CheckFailed(`${stream}@${result.nextExpectedVersion}: the store's hash differs from the file's; nothing imported`);
        run = [];
      };
      for await (const events of timelineEvents(file, { check: false })) {
        for (const e of events) {
          if (e.stream !== stream || run.length === IMPORT_APPEND) {
            await append();
            stream = e.stream;
            firstVersion = e.version;
          }
          run.push({ id: e.id, type: e.type, time: e.time, data: e.data, ...(e.meta !== undefined ? { meta: e.meta } : {}) });
          lastHash = e.hash;
        }
        progress?.(`import: ${written + held + run.length} of ${total} events (${Math.floor(((written + held + run.length) / Math.max(total, 1)) * 100)}%)`);
      }
      await append();
      progress?.(`import: ${total} of ${total} events, committing…`, true);
    });
  } finally {
    await store.close();
  }
  return { written, held };
}

/** Removes a SQLite store (its file, -wal and -shm) if it holds no event. */
async function removeEmptyStore(path: string): Promise<void> {
  let empty = false;
  try {
    const store = openSqliteEventStore({ path, readonly: true });
    empty = (await store.readAll({ limit: 1 })).length === 0;
    await store.close();
  } catch {
    return;
  }
  if (empty) for (const file of [path, `${path}-wal`, `${path}-shm`]) await rm(file, { force: true });
}

interface Progress {
  /** Shows `text`, unless a line was shown less than 100 ms ago (`now`: whatever the time). */
  (text: string, now?: boolean): void;
  /** Ends the progress line. */
  done(): void;
}

/** One line on stderr, redrawn at most ten times a second, when the output is a terminal; nothing otherwise. */
function terminalProgress(io: Output): Progress | undefined {
  if (!io.isTTY) return undefined;
  let shown = false;
  let last = 0;
  const progress = ((text: string, now = false) => {
    if (shown && !now && Date.now() - last < 100) return;
    last = Date.now();
    shown = true;
    process.stderr.write(`\r${text}\x1b[K`);
  }) as Progress;
  progress.done = () => {
    if (shown) process.stderr.write('\r\x1b[K');
    shown = false;
  };
  return progress;
}
