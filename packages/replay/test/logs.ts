/** Logs for the tests: generated as `hotpatch export` writes them, and written to files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { HotpatchEvent } from '@hotpatch/core';
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
// @ts-expect-error -- the benchmark's generator is plain JavaScript
import { generateTimeline } from '../bench/generate.mjs';

/** A generated log with positions and chained hashes, as `hotpatch export` writes it. */
export function exportedLog(events: number, devices: number, seed: number): HotpatchEvent[] {
  const heads = new Map<string, string>();
  return (generateTimeline({ events, devices, seed }) as HotpatchEvent[]).map((e) => {
    const hash = eventHash(heads.get(e.stream) ?? GENESIS_HASH, e);
    heads.set(e.stream, hash);
    return { ...e, hash };
  });
}

/** A folder removed after the test file, and a function writing lines to a new file in it (its path). */
export async function scratchFiles(prefix: string): Promise<{ dir: string; write: (lines: readonly string[]) => Promise<string> }> {
  const dir = await mkdtemp(join(os.tmpdir(), prefix));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  let files = 0;
  return {
    dir,
    write: async (lines) => {
      const path = join(dir, `t${++files}.jsonl`);
      await writeFile(path, lines.map((l) => l + '\n').join(''));
      return path;
    },
  };
}
