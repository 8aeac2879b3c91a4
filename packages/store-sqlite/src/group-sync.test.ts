/**
 * group-sync.ts on its own: the directory sync after the first WAL sync is a saving SQLite makes when it can, and
 * skips when it cannot (a folder this process may write but not list, a file system whose folders take no fsync); it
 * must not fail the store where `synchronous=FULL` would go on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

/** Folders whose open fails as a folder without read permission does (EACCES). */
const unlistable = new Set<string>();
vi.mock('node:fs/promises', async (original) => {
  const fs = await original<typeof import('node:fs/promises')>();
  const open = (path: string, flags: string) => (unlistable.has(path) ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' })) : fs.open(path, flags));
  return { ...fs, open, default: { ...fs, open } };
});
const { createGroupSync, fdatasyncFile } = await import('./group-sync.js');

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-group-sync-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('group sync', () => {
  it('answers its waiters when the WAL is synced though its folder cannot be opened to be synced', async () => {
    await writeFile(join(dir, 'a.db-wal'), 'frames');
    unlistable.add(dir);
    let walSyncs = 0;
    const sync = createGroupSync(join(dir, 'a.db'), async (wal) => {
      walSyncs++;
      await fdatasyncFile(wal);
    });
    sync.mark();
    await sync.settled();
    expect(walSyncs).toBe(1);
    expect(sync.failed).toBeUndefined();
  });

  it('fails for good when the WAL itself cannot be synced', async () => {
    const sync = createGroupSync(join(dir, 'b.db'), () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
    sync.mark();
    await expect(sync.settled()).rejects.toThrow(/EIO/);
    expect(sync.failed).toBeInstanceOf(Error);
  });
});
