/**
 * Import's second pass takes the file's hashes as checked by the first: only over the bytes the first pass read. A
 * file changed between the passes (its hashes no longer those of its events) writes nothing; the file checked writes
 * its events with its own hashes. A real file, a real SQLite store.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceStream } from '@hotpatch/core';
import { verifyFile } from '@hotpatch/replay';
import { createInMemoryEventStore, formatEvent, type RecordedEvent } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { appendFile } from './import-writes.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-import-writes-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' };
const time = '2026-01-05T08:00:00.000Z';

/** A hashed log of two devices, as an export writes it. */
async function hashedLog(): Promise<RecordedEvent[]> {
  const store = createInMemoryEventStore();
  for (const name of ['a', 'b']) {
    await store.appendToStream(deviceStream(name), [
      { type: 'DeviceEnrolled', time, data: profile },
      { type: 'EligibilityAssessed', time, data: { eligible: true, reasons: [] } },
    ]);
  }
  return store.readAll();
}

const lines = (events: readonly RecordedEvent[]) => events.map((e) => formatEvent(e) + '\n').join('');

async function readBack(path: string): Promise<RecordedEvent[]> {
  const store = await openSqliteEventStore({ path });
  try {
    return await store.readAll();
  } finally {
    await store.close();
  }
}

describe('import’s second pass', () => {
  it('writes the file checked with its own hashes, and nothing of a file changed after the check', async () => {
    const events = await hashedLog();
    const file = join(dir, 'log.jsonl');
    await writeFile(file, lines(events));
    const report = await verifyFile(file, { digest: true });
    expect(report.ok).toBe(true);
    const checked = { events: report.events, digest: report.digest!, hashed: report.hashed };

    const good = join(dir, 'good.db');
    expect(await appendFile(file, { kind: 'sqlite', path: good }, checked, undefined)).toEqual({ written: 4, held: 0 });
    expect((await readBack(good)).map((e) => e.hash)).toEqual(events.map((e) => e.hash));

    // The same file, one event's data changed behind its hash after the check: the hashes would no longer be its events'.
    await writeFile(file, lines(events.map((e, i) => (i === 1 ? { ...e, data: { eligible: false, reasons: ['changed'] } } : e))));
    const changed = join(dir, 'changed.db');
    await expect(appendFile(file, { kind: 'sqlite', path: changed }, checked, undefined)).rejects.toThrow(/changed while it was imported .*nothing imported/);
    expect(await readBack(changed)).toEqual([]);

    // Lines of another shape in their place (valid JSON all the same): the same one-line refusal, nothing written.
    for (const [i, line] of [[2, 'null'], [1, '{}'], [3, JSON.stringify({ ...events[3], hash: undefined })]] as const) {
      const texts = events.map((e) => JSON.stringify(e));
      texts[i] = line;
      await writeFile(file, texts.join('\n') + '\n');
      const target = join(dir, `shape-${i}.db`);
      await expect(appendFile(file, { kind: 'sqlite', path: target }, checked, undefined), line).rejects.toThrow(/changed while it was imported .*nothing imported/);
      expect(await readBack(target)).toEqual([]);
    }
  });
});
