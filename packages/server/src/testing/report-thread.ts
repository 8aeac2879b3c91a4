/** The report thread in the tests: a service over a SQLite file whose reports are decided in a worker thread. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { readLog, type EventStore, type RecordedEvent } from '@hotpatch/store';
import type { ServerOptions } from '../server.js';
import { pilotRollout, RELEASE, startHarness, type Harness } from './harness.js';

const storeSqlite = fileURLToPath(new URL('../../../store-sqlite/dist/index.js', import.meta.url));

export { RELEASE };

/**
 * A harness whose service decides reports in a report thread (`thread: true`, the service's own clock) or on its one
 * thread (`thread: false`, the same clock kind), over a SQLite file; `devices` enrolled in the pilot ring, a hotpatch
 * planned and ticked, an agent token each.
 */
export async function threadedHarness(
  thread: boolean,
  devices: readonly string[],
  options: Partial<ServerOptions> = {},
  /** The worker's `openStore(path)` body, given `open` (the store's opener): a test's own, say one that fails. */
  openBody = 'return open(path);',
): Promise<{ h: Harness; agents: Map<string, string>; operator: string; path: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-thread-'));
  const path = join(dir, 'hotpatch.db');
  const opener = join(dir, 'open-store.mjs');
  writeFileSync(
    opener,
    `import * as fs from 'node:fs';\nimport { openSqliteEventStore } from ${JSON.stringify(storeSqlite)};\nconst open = (path) => openSqliteEventStore({ path, durability: 'normal' });\nexport const openStore = (path) => { ${openBody} };\n`,
  );
  const store = openSqliteEventStore({ path, durability: 'normal' });
  const h = await startHarness({ store, clock: undefined, ...(thread ? { reportThread: { openStore: { module: opener, argument: path } } } : {}), ...options });
  const { operator, agents } = await pilotRollout(h, devices);
  const close = async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { h, agents, operator, path, close };
}

/** The whole log of a store, in order. */
export async function wholeLog(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const e of readLog(store)) events.push(e);
  return events;
}

/** What a test file closes after each test (call once at the top of the file). */
export function closedAfterEach(): Array<() => Promise<void>> {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });
  return closing;
}
