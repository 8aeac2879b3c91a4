import { open, stat } from 'node:fs/promises';
import type { HotpatchEvent } from '@hotpatch/core';
import { parseEventLine, readLineBatches, readTimeline, type Timeline } from '@hotpatch/store';
import { TimelineFold } from '@hotpatch/replay';
import { UsageError } from './args.js';

/** Reads a timeline file for a command; a missing file is a usage error, invalid lines are the caller's to report. */
export async function loadTimeline(file: string, options: { stopAtFirstProblem?: boolean } = {}): Promise<Timeline> {
  await mustExist(file);
  return readTimeline(file, options);
}

/** The first bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * A timeline file must be one: a missing path, a folder, or a SQLite database given without `sqlite:` is a usage
 * error (exit 2) saying so, not an invalid input.
 */
export async function mustExist(file: string, options: { readonly readTwice?: boolean } = {}): Promise<void> {
  const found = await stat(file).catch((error: NodeJS.ErrnoException) => {
    // A missing path that looks like another kind of store (mysql:…, sqlite3:…, a mistyped postgres:…) is said to be one.
    if (error.code === 'ENOENT') throw new UsageError(`no such file: ${file}${/^[a-z][a-z0-9+.-]*:/i.test(file) ? ' (a store is given as sqlite:PATH or postgres://…; anything else is a timeline file\'s path)' : ''}`);
    if (error.code === 'ELOOP') throw new UsageError(`${file}: its symbolic links form a loop`);
    throw error;
  });
  if (found.isDirectory()) throw new UsageError(`${file} is a folder, not a timeline file`);
  // A pipe gives its lines once: a command that reads the file twice would find nothing the second time.
  if (options.readTwice && !found.isFile()) throw new UsageError(`${file} is not a regular file (a pipe?): this command reads it twice; save it to a file first`);
  if (found.size >= SQLITE_HEADER.length) {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const handle = await open(file, 'r');
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    if (head.equals(SQLITE_HEADER)) throw new UsageError(`${file} is a SQLite database, not a timeline file: give it as sqlite:${file}`);
  }
}

/**
 * A timeline file's events, a batch of lines at a time, parsed, validated and checked as `verify` checks them
 * (versions, ids, the hash chain, every transition allowed), never held whole: the first problem is thrown (an
 * error naming its line), so a command never answers from a file that was changed behind its hashes. A missing
 * file is a usage error. `check: false` for a reader that has just checked the file (import's second pass, whose
 * store checks every event again as it appends it).
 */
export async function* timelineEvents(file: string, options: { readonly check?: boolean; readonly say?: (text: string) => void } = {}): AsyncGenerator<HotpatchEvent[]> {
  await mustExist(file);
  const checked = options.check === false ? undefined : new TimelineFold({}, file);
  for await (const { first, texts } of readLineBatches(file)) {
    const events: HotpatchEvent[] = new Array<HotpatchEvent>(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const event = parseEventLine(texts[i]!, first + i, file);
      checked?.add(event, first + i);
      events[i] = event;
    }
    yield events;
  }
  // A problem found only at the end (an unhashed run before the first hashed event, say).
  const result = checked?.result();
  const [problem] = result?.problems ?? [];
  if (problem !== undefined) throw problem;
  if (result !== undefined && !result.hashed && result.folded > 0) options.say?.(unhashedNote(file));
}

/** What a command that answers from a file without hashes says first (on stderr): its answer may rest on changed events. */
export function unhashedNote(file: string): string {
  return `note: ${file} carries no hashes: its integrity was NOT checked (an event changed, removed or inserted cannot be seen)`;
}
