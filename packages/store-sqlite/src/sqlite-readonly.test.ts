/**
 * A SQLite file opened only to read it: whatever the file is, its bytes stay as they were; a file that holds no
 * hotpatch store (or one of another schema) is refused with a typed error naming it; reads go on while another
 * process holds the write lock, and in a directory the reader cannot write. Running as root, which ignores
 * permissions, the readers of a read-only directory are child processes running as the user nobody.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { DatabaseBusyError, DatabaseUnavailableError, NotAStoreError, SchemaNotMigratedError, SchemaTooNewError, StoreReadOnlyError } from '@hotpatch/store';
import { openSqliteEventStore } from './sqlite-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const built = join(root, 'packages/store-sqlite/dist/index.js');
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-sqlite-readonly-'));
// Children running as nobody must reach the files under it.
chmodSync(dir, 0o755);
afterAll(() => {
  chmodRecursive(dir);
  rmSync(dir, { recursive: true, force: true });
});
// The child processes run the built package (built once for every test: test/build.global.ts).

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const t = '2026-01-05T08:00:00.000Z';
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
const enrolled = { type: 'DeviceEnrolled', time: t, data: { ...profile, ring: 'pilot', baseline: 'B1' } };
const assessed = { type: 'EligibilityAssessed', time: t, data: { eligible: true, reasons: [] } };

/** A hotpatch store with `devices` devices, each enrolled and assessed in one-event appends; closed. */
async function storeAt(path: string, devices = 3): Promise<void> {
  const store = openSqliteEventStore({ path });
  for (let d = 0; d < devices; d++) {
    await store.appendToStream(`device/d${d}`, [enrolled]);
    await store.appendToStream(`device/d${d}`, [assessed]);
  }
  await store.close();
}

function chmodRecursive(path: string): void {
  chmodSync(path, 0o755);
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) chmodRecursive(join(path, entry.name));
}

describe('a SQLite store opened read-only', () => {
  it('refuses a file that holds no hotpatch store, or a schema of another version, with its bytes unchanged', async () => {
    const cases: Array<[name: string, make: (path: string) => void | Promise<void>, error: new (...args: never[]) => Error, message: RegExp]> = [
      ['empty.db', (p) => writeFileSync(p, ''), NotAStoreError, /empty\.db: an empty file, not a hotpatch store$/],
      ['text.db', (p) => writeFileSync(p, 'name,version\nhotpatch,1\n'.repeat(100)), NotAStoreError, /text\.db: not a SQLite database$/],
      [
        'theirs.db',
        (p) => {
          const db = new Database(p);
          db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders (item) VALUES ('bolts')");
          db.close();
        },
        NotAStoreError,
        /theirs\.db: a SQLite database without hotpatch's tables \(it holds orders\), not a hotpatch store$/,
      ],
      [
        'newer.db',
        async (p) => {
          await storeAt(p);
          const db = new Database(p);
          db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 'x')").run();
          db.close();
        },
        SchemaTooNewError,
        /newer\.db: its hotpatch schema is at version 99, newer than this build knows \(4\); upgrade hotpatch$/,
      ],
      [
        'older.db',
        async (p) => {
          await storeAt(p);
          const db = new Database(p);
          db.prepare('DELETE FROM schema_migrations WHERE version = 4').run();
          db.close();
        },
        SchemaNotMigratedError,
        /older\.db: its hotpatch schema is at version 3, older than this build's \(4\), and a reader does not migrate it/,
      ],
    ];
    const where = join(dir, 'refused');
    mkdirSync(where);
    // A reader of a WAL database that nobody has open makes SQLite create its -wal (empty) and -shm beside it: the
    // index of the WAL that readers and writers share. They hold no data, and a writer removes them when it closes.
    const files = () => readdirSync(where).filter((f) => !((f.endsWith('-wal') && readFileSync(join(where, f)).length === 0) || f.endsWith('-shm')));
    for (const [name, make, error, message] of cases) {
      const path = join(where, name);
      await make(path);
      const before = { bytes: sha(path), files: files() };
      let thrown: unknown;
      try {
        openSqliteEventStore({ path, readonly: true });
      } catch (e) {
        thrown = e;
      }
      expect(thrown, name).toBeInstanceOf(error);
      expect((thrown as Error).message, name).toMatch(message);
      expect({ bytes: sha(path), files: files() }, name).toEqual(before);
    }
    // Someone else's database keeps its journal mode.
    const theirs = new Database(join(where, 'theirs.db'), { readonly: true });
    expect(theirs.pragma('journal_mode', { simple: true })).toBe('delete');
    theirs.close();
    // No file, or a directory: nothing is created.
    expect(() => openSqliteEventStore({ path: join(where, 'missing.db'), readonly: true })).toThrow(DatabaseUnavailableError);
    expect(() => openSqliteEventStore({ path: join(where, 'missing.db'), readonly: true })).toThrow(/missing\.db: no such file$/);
    expect(existsSync(join(where, 'missing.db'))).toBe(false);
    expect(() => openSqliteEventStore({ path: where, readonly: true })).toThrow(/refused: a directory, not a database file$/);
    // A writer refuses what it cannot use too, changing nothing.
    const text = join(where, 'text.db');
    const textBytes = sha(text);
    expect(() => openSqliteEventStore({ path: text })).toThrow(NotAStoreError);
    expect(sha(text)).toBe(textBytes);
    expect(() => openSqliteEventStore({ path: join(where, 'newer.db') })).toThrow(SchemaTooNewError);
    expect(() => openSqliteEventStore({ path: join(where, 'nowhere', 'x.db') })).toThrow(/x\.db: its directory does not exist$/);
  });

  it('reads a store without writing it: the same bytes, writes refused, a stale snapshot left for a writer', async () => {
    const path = join(dir, 'read.db');
    await storeAt(path);
    const before = sha(path);
    const store = openSqliteEventStore({ path, readonly: true });
    expect((await store.readAll()).length).toBe(6);
    // Each device's snapshot is at version 1 (one-event appends write one every 8): the read folds the second event,
    // and would write the snapshot again if it were a writer.
    expect(await store.readState('device/d0')).toMatchObject({ version: 2, snapshotVersion: 1, eventsFolded: 1 });
    expect((await store.streamHeads()).length).toBe(3);
    await expect(store.appendToStream('device/d9', [enrolled])).rejects.toThrow(StoreReadOnlyError);
    await expect(store.appendToStream('device/d9', [enrolled])).rejects.toThrow(/read\.db is open read-only: appendToStream refused, nothing written$/);
    await expect(store.saveCheckpoint('c', 0, 1)).rejects.toThrow(StoreReadOnlyError);
    await expect(store.saveProjection('p', 1, 'x')).rejects.toThrow(StoreReadOnlyError);
    await store.close();
    expect(sha(path)).toBe(before);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT version FROM snapshots WHERE stream = 'device/d0'").pluck().get()).toBe(1);
    db.close();
  });

  it('reads while another process holds the write lock; a writer then fails in one line, naming the file', async () => {
    const path = join(dir, 'locked.db');
    await storeAt(path);
    const writer = openSqliteEventStore({ path, busyTimeoutMs: 300 });
    const locker = await child(`
      const Database = (await import('node:module')).createRequire(${JSON.stringify(join(root, 'packages/store-sqlite/package.json'))})('better-sqlite3');
      const db = new Database(${JSON.stringify(path)});
      db.exec('BEGIN IMMEDIATE');
      db.prepare("INSERT INTO checkpoints VALUES ('lock', 0, 'x')").run();
      console.log('locked');
      setInterval(() => {}, 60_000);
    `);
    try {
      expect(await locker.next()).toBe('locked');
      const started = Date.now();
      const reader = openSqliteEventStore({ path, readonly: true, busyTimeoutMs: 5_000 });
      expect((await reader.readAll()).length).toBe(6);
      expect(await reader.readCheckpoint('lock')).toBe(0);
      await reader.close();
      // Well within the busy timeout: the reader never asked for the lock.
      expect(Date.now() - started).toBeLessThan(2_000);
      const refused = await writer.appendToStream('device/d0', [assessed]).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DatabaseBusyError);
      expect((refused as Error).message).toMatch(/locked\.db: another process has held its write lock for more than 0\.3 s .*nothing written/);
    } finally {
      locker.kill();
      await writer.close();
    }
  });
});

const asNobody = process.getuid?.() === 0;

describe(`a SQLite store read from a directory the reader cannot write (${asNobody ? 'as the user nobody' : 'chmod a-w'})`, () => {
  const ro = join(dir, 'ro');
  const path = join(ro, 'fleet.db');
  const readOnly = () => chmodSync(ro, 0o555);
  const writable = () => chmodSync(ro, 0o755);
  beforeAll(async () => {
    mkdirSync(ro);
    await storeAt(path);
  });

  /** A reader in a child process (as nobody when this runs as root): `readAll` on each line it is sent. */
  const reader = () =>
    child(
      `
      const { openSqliteEventStore } = await import(${JSON.stringify(built)});
      const { createInterface } = await import('node:readline');
      const answer = async (f) => { try { console.log(JSON.stringify(await f())); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } };
      let store;
      await answer(() => (store = openSqliteEventStore({ path: ${JSON.stringify(path)}, readonly: true }), { opened: true }));
      for await (const line of createInterface({ input: process.stdin })) {
        if (line === 'write') await answer(() => openSqliteEventStore({ path: ${JSON.stringify(path)} }) && { written: true });
        else await answer(async () => ({ events: (await store.readAll()).length }));
      }
    `,
      asNobody,
    );
  const readAllIn = async (c: Child) => {
    c.send('read');
    return JSON.parse(await c.next()) as { events?: number; code?: string; message?: string };
  };

  it('at rest (its last writer closed it: no -wal file), it is refused in one line that says why, and nothing is created beside it', async () => {
    readOnly();
    const files = readdirSync(ro);
    const bytes = sha(path);
    const c = await reader();
    try {
      expect(JSON.parse(await c.next())).toEqual({
        code: 'DATABASE_UNAVAILABLE',
        message: `${path}: cannot be read from this folder: SQLite must create fleet.db-shm beside a WAL database to read it, and this process cannot write the folder; copy the file to a folder it can write, or read it as a user who can`,
      });
      // A writer there fails in one line, naming the file.
      c.send('write');
      expect(JSON.parse(await c.next())).toEqual({ code: 'DATABASE_UNAVAILABLE', message: `${path}: cannot be written: the file or its directory is read-only (a writer needs both: SQLite keeps its WAL journal beside the file)` });
    } finally {
      c.kill();
    }
    expect(readdirSync(ro)).toEqual(files);
    expect(sha(path)).toBe(bytes);
  });

  it('while a writer has it open (its -wal and -shm there, not the reader’s to write), it is read with what the writer committed', async () => {
    writable();
    const store = openSqliteEventStore({ path });
    const before = (await store.readAll()).length;
    readOnly();
    await store.appendToStream('device/d1', [assessed]);
    const c = await reader();
    try {
      expect(JSON.parse(await c.next())).toEqual({ opened: true });
      expect(await readAllIn(c)).toMatchObject({ events: before + 1 });
    } finally {
      c.kill();
      await store.close();
    }
  });
});

interface Child {
  /** The next line the child prints. */
  next(): Promise<string>;
  send(line: string): void;
  kill(): void;
}

/** Runs an ES module body in a child process, as nobody if asked. */
async function child(body: string, nobody = false): Promise<Child> {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, body, { mode: 0o644 });
  const proc: ChildProcessWithoutNullStreams = spawn(process.execPath, [file], { cwd: dir, ...(nobody ? { uid: 65534, gid: 65534 } : {}) });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    next: async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error(`the child ended: ${stderr}`);
      return value as string;
    },
    send: (line) => proc.stdin.write(line + '\n'),
    kill: () => {
      proc.kill('SIGKILL');
      void once(proc, 'exit');
    },
  };
}
