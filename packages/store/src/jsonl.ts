/**
 * The timeline format: one event per line, JSON, UTF-8, keys in a fixed order so that the same events always
 * give the same bytes. Reading validates every line and reports problems with their line numbers.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { InvalidEventError, validateEvent, type EventEnvelope, type HotpatchEvent } from '@hotpatch/core';

/** Renders an event as its canonical timeline line (no newline): keys in catalog order, absent fields omitted. */
export function formatEvent(event: EventEnvelope): string {
  const ordered: Record<string, unknown> = {
    id: event.id,
    stream: event.stream,
    version: event.version,
    type: event.type,
    time: event.time,
    data: event.data,
  };
  if (event.meta !== undefined) ordered.meta = event.meta;
  if (event.position !== undefined) ordered.position = event.position;
  if (event.hash !== undefined) ordered.hash = event.hash;
  return JSON.stringify(ordered);
}

/** Parses and validates one line. Throws InvalidEventError naming the line (and file). */
export function parseEventLine(text: string, line: number, file?: string): HotpatchEvent {
  const at = file === undefined ? { line } : { line, file };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidEventError(at, `not valid JSON (${(error as Error).message})`);
  }
  return validateEvent(value, at);
}

/**
 * Yields the lines of a file in batches (one per chunk read), each line with its 1-based number, reading the file
 * in chunks: files may be larger than a string can be, and one await per batch rather than per line keeps a
 * million-line file fast.
 */
export async function* readLineBatches(path: string): AsyncGenerator<Array<{ line: number; text: string }>> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const text = pending + decoder.write(chunk as Buffer);
    const batch: Array<{ line: number; text: string }> = [];
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      line++;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      batch.push({ line, text: text.slice(start, end) });
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    pending = text.slice(start);
    if (batch.length) yield batch;
  }
  pending += decoder.end();
  if (pending.length > 0) yield [{ line: line + 1, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending }];
}

/** Yields the lines of a file with their 1-based numbers (see readLineBatches). */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  for await (const batch of readLineBatches(path)) yield* batch;
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
  for await (const batch of readLineBatches(path)) {
    for (const { line, text } of batch) {
      try {
        if (text.length === 0 || text.trim() === '') throw new InvalidEventError({ file: path, line }, 'empty line');
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

/** Writes events as a timeline file (creating its folder), one canonical line each. */
export async function writeTimeline(path: string, events: Iterable<EventEnvelope>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  try {
    let buffer = '';
    for (const event of events) {
      buffer += formatEvent(event) + '\n';
      if (buffer.length > 1 << 20) {
        await file.write(buffer);
        buffer = '';
      }
    }
    if (buffer) await file.write(buffer);
    await file.sync();
  } finally {
    await file.close();
  }
}
