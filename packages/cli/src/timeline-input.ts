import { access } from 'node:fs/promises';
import type { HotpatchEvent } from '@hotpatch/core';
import { parseEventLine, readLineBatches, readTimeline, type Timeline } from '@hotpatch/store';
import { UsageError } from './args.js';

/** Reads a timeline file for a command; a missing file is a usage error, invalid lines are the caller's to report. */
export async function loadTimeline(file: string, options: { stopAtFirstProblem?: boolean } = {}): Promise<Timeline> {
  await mustExist(file);
  return readTimeline(file, options);
}

/** A missing timeline file is a usage error (exit 2), not an invalid input. */
export async function mustExist(file: string): Promise<void> {
  try {
    await access(file);
  } catch {
    throw new UsageError(`no such file: ${file}`);
  }
}

/**
 * A timeline file's events, a batch of lines at a time, parsed and validated, never held whole: the first invalid
 * line is thrown (an InvalidEventError naming it). A missing file is a usage error.
 */
export async function* timelineEvents(file: string): AsyncGenerator<HotpatchEvent[]> {
  await mustExist(file);
  for await (const { first, texts } of readLineBatches(file)) {
    const events: HotpatchEvent[] = new Array<HotpatchEvent>(texts.length);
    for (let i = 0; i < texts.length; i++) events[i] = parseEventLine(texts[i]!, first + i, file);
    yield events;
  }
}
