import { access } from 'node:fs/promises';
import { readTimeline, type Timeline } from '@hotpatch/store';
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
