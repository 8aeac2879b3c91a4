/**
 * Folding a timeline file as it is read: each line parsed, validated and folded, then dropped; a large file on
 * every core (fold-shards.ts), which falls back to one thread whenever it cannot be sure of the same result.
 */
import { stat } from 'node:fs/promises';
import { InvalidEventError, type HotpatchEvent } from '@hotpatch/core';
import { fileDigest, parseEventLine, readLineBatches } from '@hotpatch/store';
import { foldInShards, shardsAvailable } from './fold-shards.js';
import { TimelineFold, type FileFoldResult, type FoldOptions, type StreamTrouble } from './fold.js';

export type { FileFoldResult } from './fold.js';

/** Below this size a file is folded in this thread: starting workers would cost more than they save. */
const PARALLEL_FROM_BYTES = 16 << 20;

export interface FileFoldOptions extends FoldOptions {
  /**
   * Fold on several cores: 'auto' (default) for files of 16 MB and more, true whatever the size, false never. Used
   * only where the result is sure to be the one-thread fold's (no onStep, lifecycle, stream or tenant filter, not to a
   * position, a canonical clean file); otherwise the file is folded in this thread.
   */
  readonly parallel?: boolean | 'auto';
  /** Take a digest of the bytes read (FileFoldResult.digest): to tell whether a later read of the file reads the same. */
  readonly digest?: boolean;
}

/**
 * Folds a timeline file as it reads it: each line parsed, validated and folded, then dropped, so memory holds the
 * states and the ids, not the events. Stops reading at the replay point. Without `collectProblems`, the first
 * invalid line or refused event is thrown, naming the line.
 */
export async function foldFile(path: string, options: FileFoldOptions = {}): Promise<FileFoldResult> {
  return foldFileWith(path, options, (foldOptions) => new TimelineFold(foldOptions, path));
}

/** `foldFile`, folding in this thread with the fold `fold` makes (verify's diagnosis); shards fold a clean file. */
export async function foldFileWith(path: string, options: FileFoldOptions, fold: (options: FoldOptions) => TimelineFold<StreamTrouble>): Promise<FileFoldResult> {
  // A large file, folded to its end or to a time, with nothing to call back per event: on several cores when it
  // can be (see fold-shards.ts), which falls back to this thread whenever it cannot be sure of the same result.
  const { parallel = 'auto', digest = false, ...foldOptions } = options;
  const until = foldOptions.until ?? { kind: 'end' };
  if (parallel !== false && foldOptions.onStep === undefined && foldOptions.lifecycle === undefined && foldOptions.stream === undefined && foldOptions.tenant === undefined && foldOptions.hashes !== 'every' && until.kind !== 'position') {
    const shards = shardsAvailable();
    if (shards > 1 && (parallel === true || (await stat(path)).size >= PARALLEL_FROM_BYTES)) {
      const result = await foldInShards(path, foldOptions.until, shards, foldOptions.crossStream === true, digest);
      if (result !== undefined) return result;
    }
  }
  return foldFileInThisThread(path, fold(foldOptions), foldOptions.collectProblems === true, digest);
}

async function foldFileInThisThread(path: string, fold: TimelineFold<StreamTrouble>, collectProblems: boolean, digest: boolean): Promise<FileFoldResult> {
  const lineProblems: InvalidEventError[] = [];
  let lines = 0;
  const hash = digest ? fileDigest() : undefined;
  reading: for await (const { first, texts } of readLineBatches(path, hash ? { digest: hash } : {})) {
    for (let i = 0; i < texts.length; i++) {
      const line = first + i;
      const text = texts[i]!;
      lines = line;
      let event: HotpatchEvent;
      try {
        event = parseEventLine(text, line, path);
      } catch (error) {
        if (!(error instanceof InvalidEventError) || !collectProblems) throw error;
        lineProblems.push(error);
        fold.unreadable(error, text);
        continue;
      }
      if (!fold.add(event, line)) break reading;
    }
  }
  return { ...fold.result(), lineProblems, lines, ...(hash ? { digest: hash.digest('hex') } : {}) };
}
