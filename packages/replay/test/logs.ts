/** Logs for the tests: generated as `hotpatch export` writes them, and written to files. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { HotpatchEvent } from '@hotpatch/core';
import { eventHash, GENESIS_HASH, tenantIds } from '@hotpatch/store';
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

/**
 * Logs of several tenants as one: each log's events, a named tenant's under its prefix with its ids masked (as its
 * view of a store writes them), interleaved event by event, positions given in that order and hashes chained anew.
 */
export function sharedLog(logs: ReadonlyArray<readonly [tenant: string | undefined, events: readonly HotpatchEvent[]]>): HotpatchEvent[] {
  const queues = logs.map(([tenant, events]) => {
    const ids = tenantIds(tenant);
    return events.map(({ hash: _h, position: _p, ...e }) => (tenant === undefined ? e : { ...e, stream: `tenant/${tenant}/${e.stream}`, id: ids.stored(e.id) }));
  });
  const heads = new Map<string, string>();
  const out: HotpatchEvent[] = [];
  for (let i = 0; queues.some((q) => i < q.length); i++) {
    for (const q of queues) {
      const e = q[i];
      if (e === undefined) continue;
      const hash = eventHash(heads.get(e.stream) ?? GENESIS_HASH, e);
      heads.set(e.stream, hash);
      out.push({ ...e, position: out.length + 1, hash } as HotpatchEvent);
    }
  }
  return out;
}
