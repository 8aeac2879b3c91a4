import { existsSync } from 'node:fs';
import { link, mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HotpatchError } from '@hotpatch/core';
import { verifyFile } from '@hotpatch/replay';
import { pendingFile } from '@hotpatch/store';
import { CheckFailed, onePositional, parse, UsageError, type CommandSpec, type Output } from '../args.js';
import { json } from '../format.js';
import { describeSource, openEventStore, parseStoreSource, type StoreSource } from '../store-source.js';
import { mustExist } from '../timeline-input.js';
import { appendFile, type CheckedFile, type Progress } from './import-writes.js';
import { problemLine } from './verify.js';

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'load a JSONL timeline into a store, after checking all of it',
  usage: `hotpatch import <file.jsonl> --store <source> [--unhashed] [--json]

  Checks the whole file first (format, versions, ids, hashes, transitions), then writes it in one transaction:
  all of it or, if anything fails (an event that conflicts with what the store holds, the connection lost, another
  writer), nothing. The file is read twice, line by line, never held in memory whole: the second read must read the
  bytes the first checked, or nothing is imported. Events keep their ids, times, metadata and checked hashes (each
  run must chain from what the store holds); the store assigns positions. Importing the same
  file twice changes nothing (events are recognised by id). While it writes, the store's other writers wait (SQLite:
  up to their busy timeout, then fail writing nothing). On a terminal, progress goes to stderr.

  A file without hashes (written by hand, or stripped of them) is refused: whether it was changed cannot be
  checked, and the store would hash it as it is, so that it looked checked ever after. --unhashed imports it all
  the same, saying first that its integrity was NOT checked.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, json: { type: 'boolean' }, unhashed: { type: 'boolean' } });
    const file = onePositional(positionals, 'timeline file');
    if (values.store === undefined) throw new UsageError('--store <source> is required');
    if (parseStoreSource(file).kind !== 'jsonl') throw new UsageError(`${file}: import reads a timeline file; export a store to one first`);
    const target = parseStoreSource(values.store as string);
    if (target.kind === 'jsonl') throw new UsageError(`--store ${target.path}: a timeline file is not a store; use sqlite:path or postgres://…`);
    await mustExist(file, { readTwice: true });
    const asJson = values.json === true;
    const where = describeSource(target);
    const progress = terminalProgress(io);
    progress?.(`import: checking ${file}…`, true);
    const report = await verifyFile(file, { digest: true });
    progress?.done();
    const refuse = (problems: readonly { code: string; message: string }[], line: string): never => {
      if (asJson) io.out(json({ ok: false, file, events: report.events, problems }));
      throw new CheckFailed(line);
    };
    if (!report.ok) {
      if (!asJson) for (const problem of report.problems) io.out(problemLine(problem));
      refuse(report.problems.map((p) => ({ code: p.code, message: problemLine(p) })), `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${file}; nothing imported`);
    }
    // A store hashes what it is given: a file without hashes would come out of it looking checked.
    const unchecked = !report.hashed && report.events > 0;
    if (unchecked && values.unhashed !== true) {
      refuse([{ code: 'UNHASHED', message: `${file} carries no hashes` }], `${file} carries no hashes, so whether it was changed cannot be checked, and the store would hash it as it is: nothing imported (give --unhashed to import it all the same)`);
    }
    if (unchecked && !asJson) io.out(`integrity NOT checked: ${file} carries no hashes; the store's hashes start from what it holds now`);
    let result: { written: number; held: number };
    try {
      result = await importFile(file, target, { events: report.events, digest: report.digest!, hashed: report.hashed }, progress);
    } catch (error) {
      progress?.done();
      const failure = notImported(error);
      if (asJson) io.out(json({ ok: false, file, store: where, error: { ...(error instanceof HotpatchError ? { code: error.code } : {}), message: failure.message } }));
      throw failure;
    }
    progress?.done();
    if (asJson) io.out(json({ ok: true, file, store: where, events: report.events, written: result.written, alreadyThere: result.held, integrity: unchecked ? 'not checked' : 'checked' }));
    else io.out(`imported ${file} into ${where}: ${result.written} events written, ${result.held} already there`);
  },
};

/**
 * A refusal or failure while writing, in one line that says what became of the import: nothing of it was written (it
 * is one transaction), unless the connection broke during the commit, when nobody can know (the error says so, and
 * importing again is safe: what is there is recognised by id). Anything else is not the user's doing: as it is.
 */
function notImported(error: unknown): Error {
  if (error instanceof CheckFailed || !(error instanceof HotpatchError)) return error as Error;
  // The error keeps its class (and so its exit code: the environment's, for a lost connection or a lock held too long).
  const commit = error.code === 'CONNECTION_LOST' && (error as { operation?: string }).operation === 'batch commit';
  error.message += commit ? '; importing the file again is safe: events already there are recognised by id' : '; nothing imported';
  return error;
}

/**
 * Imports into the target; a SQLite store the import creates is built beside it and appears only once whole (linked
 * into place, so that a store another process created there meanwhile is never replaced): a failure leaves no file.
 */
async function importFile(file: string, target: Exclude<StoreSource, { kind: 'jsonl' }>, checked: CheckedFile, progress: Progress | undefined): Promise<{ written: number; held: number }> {
  if (target.kind !== 'sqlite' || existsSync(target.path)) return appendFile(file, target, checked, progress);
  const pending = await pendingFile(target.path);
  try {
    const result = await appendFile(file, { kind: 'sqlite', path: pending.temporary }, checked, progress);
    await mkdir(dirname(resolve(target.path)), { recursive: true });
    await link(pending.temporary, target.path).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EEXIST' ? new CheckFailed(`${target.path} was created by another process while this import ran: nothing imported`) : error;
    });
    return result;
  } finally {
    for (const suffix of ['', '-wal', '-shm']) await rm(pending.temporary + suffix, { force: true });
  }
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
