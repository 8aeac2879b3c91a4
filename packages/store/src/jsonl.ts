/**
 * The timeline format: one event per line, JSON, UTF-8, keys in a fixed order so that the same events always
 * give the same bytes. Reading validates every line and reports problems with their line numbers.
 */
import { isAscii } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFileAtomically } from './atomic-file.js';
import { quoted, type EventTexts } from './hash.js';
import { eventProblem, InvalidEventError, type EventEnvelope, type HotpatchEvent } from '@hotpatch/core';

/**
 * Renders an event as its canonical timeline line (no newline): keys in catalog order, absent fields omitted — the
 * text JSON.stringify gives an object with those keys in that order. `texts`: JSON.stringify of its data and meta,
 * where the caller has them already (a store writing them).
 */
export function formatEvent(event: EventEnvelope, texts?: EventTexts): string {
  return (
    '{"id":' + quoted(event.id) + ',"stream":' + quoted(event.stream) + ',"version":' + JSON.stringify(event.version) + ',"type":' + quoted(event.type) +
    ',"time":' + quoted(event.time) + ',"data":' + (texts?.data ?? JSON.stringify(event.data)) +
    (event.meta === undefined ? '' : ',"meta":' + (texts?.meta ?? JSON.stringify(event.meta))) +
    (event.position === undefined ? '' : ',"position":' + JSON.stringify(event.position)) +
    (event.hash === undefined ? '' : ',"hash":' + quoted(event.hash)) +
    '}'
  );
}

/**
 * Parses and validates one line. Throws InvalidEventError naming the line (and file); an empty line is one. A line
 * that is an event costs one JSON.parse and the check, nothing more: where it is is built only for a line that is not.
 */
export function parseEventLine(text: string, line: number, file?: string): HotpatchEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // (JSON.parse refuses an empty line, or one of blanks: said as such.)
    throw new InvalidEventError(lineAt(line, file), text.trim() === '' ? 'empty line' : `not valid JSON (${(error as Error).message})`);
  }
  const problem = eventProblem(value);
  if (problem !== undefined) throw problem(lineAt(line, file));
  return value as HotpatchEvent;
}

const lineAt = (line: number, file: string | undefined) => (file === undefined ? { line } : { line, file });

/** Consecutive lines of a file: `texts[i]` is line `first + i` (1-based), without its line break. */
export interface LineBatch {
  readonly first: number;
  readonly texts: string[];
}

/**
 * Consecutive lines of a file as spans of one decoded text: line `first + i` is `text.slice(starts[i], ends[i])`
 * (without its line break). For readers that look into most lines without keeping them: characters read from the
 * one flat text are cheaper than from a string sliced out of it.
 */
export interface LineSpans {
  readonly first: number;
  readonly text: string;
  readonly starts: number[];
  readonly ends: number[];
}

/** The longest line a timeline may hold: an event is a few hundred bytes; a file without line breaks is not a timeline. */
const MAX_LINE_BYTES = 16 << 20;

/**
 * Yields the lines of a file in batches of spans (one per chunk read), reading the file in chunks: files may be
 * larger than a string can be, and one await per batch rather than per line keeps a million-line file fast. Each
 * chunk is decoded up to its last line break (a line break never falls inside a UTF-8 sequence), so no decoder
 * state or string concatenation is needed; the bytes after it wait for the next chunk.
 */
export async function* readLineSpans(path: string, options: ReadOptions = {}): AsyncGenerator<LineSpans> {
  let pending: Buffer | undefined;
  /** Chunks read since the last line break, not joined until one comes (joining each time would be quadratic). */
  const unbroken: Buffer[] = [];
  let unbrokenBytes = 0;
  let line = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    options.digest?.update(chunk as Buffer);
    if ((chunk as Buffer).indexOf(10) === -1) {
      unbroken.push(chunk as Buffer);
      unbrokenBytes += (chunk as Buffer).length;
      if ((pending?.length ?? 0) + unbrokenBytes > MAX_LINE_BYTES) throw new InvalidEventError({ file: path, line: line + 1 }, `longer than ${MAX_LINE_BYTES >> 20} MiB without a line break: not an event (a timeline holds one event per line)`);
      continue;
    }
    const parts = pending === undefined ? [...unbroken, chunk as Buffer] : [pending, ...unbroken, chunk as Buffer];
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    unbroken.length = 0;
    unbrokenBytes = 0;
    const last = bytes.lastIndexOf(10);
    // Most logs are ASCII (JSON escapes the rest only if asked to; ids, names and times are ASCII): checking that is
    // cheap, and ASCII decodes as Latin-1, a plain copy, about four times faster than UTF-8 decoding.
    const whole = bytes.subarray(0, last + 1);
    const text = isAscii(whole) ? whole.toString('latin1') : whole.toString('utf8');
    pending = last + 1 < bytes.length ? bytes.subarray(last + 1) : undefined;
    const first = line + 1;
    const starts: number[] = [];
    const ends: number[] = [];
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      starts.push(start);
      ends.push(nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    line += starts.length;
    yield { first, text, starts, ends };
  }
  if (unbroken.length > 0) pending = Buffer.concat(pending === undefined ? unbroken : [pending, ...unbroken]);
  if (pending !== undefined && pending.length > 0) {
    const text = pending.toString('utf8');
    yield { first: line + 1, text, starts: [0], ends: [text.endsWith('\r') ? text.length - 1 : text.length] };
  }
}

/**
 * A digest of a file's bytes, for ReadOptions.digest: SHA-512, collision-resistant as SHA-256 is, and twice as fast
 * over a large file on a 64-bit machine (a digest of a 241 MB log: 0.27 s of CPU against 0.57 s).
 */
export const fileDigest = (): Hash => createHash('sha512');

/** How to read a file's lines. */
export interface ReadOptions {
  /** Fed every byte read, in order: a digest of what was read (to tell whether a second read read the same bytes). */
  readonly digest?: Hash;
}

/** Yields the lines of a file in batches (see readLineSpans), each line its own string. */
export async function* readLineBatches(path: string, options: ReadOptions = {}): AsyncGenerator<LineBatch> {
  for await (const { first, text, starts, ends } of readLineSpans(path, options)) {
    const texts: string[] = new Array<string>(starts.length);
    for (let i = 0; i < starts.length; i++) texts[i] = text.slice(starts[i], ends[i]);
    yield { first, texts };
  }
}

/** Yields the lines of a file with their 1-based numbers (see readLineBatches). */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  for await (const { first, texts } of readLineBatches(path)) for (let i = 0; i < texts.length; i++) yield { line: first + i, text: texts[i]! };
}

export interface Timeline {
  /** The valid events, in file order. */
  readonly events: HotpatchEvent[];
  /** The line number of each event in `events`. */
  readonly lines: number[];
  /** Lines that are not valid events. */
  readonly problems: InvalidEventError[];
}

/**
 * Reads a timeline file. Each line is parsed and validated on its own; invalid lines are collected as problems
 * (with `stopAtFirstProblem`, the first one is thrown instead). Empty lines are reported too.
 */
export async function readTimeline(path: string, options: { stopAtFirstProblem?: boolean } = {}): Promise<Timeline> {
  const events: HotpatchEvent[] = [];
  const lines: number[] = [];
  const problems: InvalidEventError[] = [];
  for await (const { first, texts } of readLineBatches(path)) {
    for (let i = 0; i < texts.length; i++) {
      const line = first + i;
      const text = texts[i]!;
      try {
        events.push(parseEventLine(text, line, path));
        lines.push(line);
      } catch (error) {
        if (!(error instanceof InvalidEventError) || options.stopAtFirstProblem) throw error;
        problems.push(error);
      }
    }
  }
  return { events, lines, problems };
}

/**
 * Writes events as a timeline file, one canonical line each: all of it or nothing (a temporary file beside it
 * replaces it once whole), its folder made if missing. Events may come as they are read (an async iterable of
 * events or of pages of them); resolves to how many were written.
 */
export async function writeTimeline(path: string, events: Iterable<EventEnvelope> | AsyncIterable<EventEnvelope | readonly EventEnvelope[]>): Promise<number> {
  return writeFileAtomically(path, async (file) => {
    let buffer = '';
    let written = 0;
    for await (const item of events) {
      for (const event of Array.isArray(item) ? (item as readonly EventEnvelope[]) : [item as EventEnvelope]) {
        buffer += formatEvent(event) + '\n';
        written++;
        if (buffer.length > 1 << 20) {
          await file.write(buffer);
          buffer = '';
        }
      }
    }
    if (buffer) await file.write(buffer);
    return written;
  });
}
