/**
 * `checkpoints: 'worker'`: the writer never checkpoints (its automatic checkpoint off), a worker thread on its own
 * connection does, every 32 commits and on demand; the WAL then starts over instead of growing; what was committed
 * is all there after close, and after a crash of the writer before any checkpoint (the WAL alone holds it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpatch-sqlite-checkpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const enrolled = { type: 'DeviceEnrolled', time: '2026-01-01T00:00:00.000Z', data: { ...PROFILE, ring: 'pilot', baseline: 'B1' } };
const count = async (store: { streamVersion(stream: string): Promise<number> }, n: number) => {
  let found = 0;
  for (let i = 1; i <= n; i++) found += await store.streamVersion(`device/d${i}`);
  return found;
};

describe('SQLite store, checkpoints by a worker thread', () => {
  it('the writer does not checkpoint; the worker does, every 32 commits, and the WAL starts over', async () => {
    const path = join(dir, 'worker.db');
    const store = openSqliteEventStore({ path, checkpoints: 'worker' });
    try {
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      for (let i = 1; i <= 600; i++) await store.appendToStream(`device/d${i}`, [enrolled]);
      // Every frame the WAL holds is copied into the database file by the worker.
      const done = await store.checkpointer!.now();
      expect(done).toMatchObject({ busy: 0 });
      expect(done.checkpointed).toBe(done.log);
      const grown = statSync(`${path}-wal`).size;
      for (let i = 601; i <= 1200; i++) await store.appendToStream(`device/d${i}`, [enrolled]);
      // 600 more commits did not double the WAL: it started over once checkpointed.
      expect(statSync(`${path}-wal`).size).toBeLessThan(grown * 1.5);
    } finally {
      await store.close();
    }
    const again = openSqliteEventStore({ path, readonly: true });
    try {
      expect(await count(again, 1200)).toBe(1200);
    } finally {
      await again.close();
    }
  });

  it('what a writer committed survives its crash before any checkpoint', () => {
    const path = join(dir, 'crash.db');
    const script = `
      import { openSqliteEventStore } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).pathname)};
      const store = openSqliteEventStore({ path: ${JSON.stringify(path)}, checkpoints: 'worker' });
      for (let i = 1; i <= 20; i++) await store.appendToStream('device/d' + i, [${JSON.stringify(enrolled)}]);
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['--input-type=module', '-e', script]);
    const store = openSqliteEventStore({ path, readonly: true });
    return count(store, 20).then(async (found) => {
      expect(found).toBe(20);
      await store.close();
    });
  });

  it('an in-memory store has no WAL: no worker', async () => {
    const store = openSqliteEventStore({ path: ':memory:', checkpoints: 'worker' });
    expect(store.checkpointer).toBeUndefined();
    await store.close();
  });
});
