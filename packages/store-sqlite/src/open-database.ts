/**
 * Opening a SQLite file as an event store, to write it or only to read it, and what SQLite says when it cannot, as
 * typed errors naming the file.
 *
 * A writer creates the file when it is missing, switches it to WAL and applies the missing migrations. A reader opens
 * it read-only: it never creates, migrates or changes the file (its journal mode included), reads while a writer
 * writes (WAL), and refuses a file that is not SQLite, holds no hotpatch store, or whose schema is of another version.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { HotpatchError } from '@hotpatch/core';
import { DatabaseBusyError, DatabaseUnavailableError, NotAStoreError, SchemaNotMigratedError, SchemaTooNewError } from '@hotpatch/store';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from './migrations.js';

/**
 * Opens `path` to write it: created when missing, in WAL mode, migrated. A database that holds tables of its own and
 * none of hotpatch's is someone else's: refused, unchanged.
 */
export function openForWriting(path: string, options: { readonly timeoutMs: number; readonly synchronous: 'FULL' | 'NORMAL' }): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  // A file this process may not write is refused before SQLite opens it: opened, SQLite would make its -wal and -shm
  // files beside it (the folder being writable) and leave them there when the first write fails.
  if (path !== ':memory:' && existsSync(path) && !writable(path)) {
    throw new DatabaseUnavailableError(path, READ_ONLY);
  }
  try {
    db = new Database(path, { timeout: options.timeoutMs });
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    if (tables.length > 0 && !tables.includes('schema_migrations')) throw new NotAStoreError(path, foreignTables(tables));
    enableWal(db, options.timeoutMs);
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('cache_size = -65536');
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw sqliteFailure(path, error, options.timeoutMs, 'open');
  }
}

const READ_ONLY = 'cannot be written: the file or its directory is read-only (a writer needs both: SQLite keeps its WAL journal beside the file)';

/** Whether this process may write the file (a directory given as the file is left to SQLite to refuse). */
function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Opens `path` only to read it: it must exist and hold a hotpatch store of this build's schema. */
export function openForReading(path: string, options: { readonly timeoutMs: number }): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: options.timeoutMs });
    checkSchema(db, path);
    db.pragma('cache_size = -65536');
    return db;
  } catch (error) {
    db?.close();
    // A WAL database nobody has open (no -wal file), in a folder this process cannot write: SQLite must create its
    // shared-memory file beside it to read it. (It could read it as immutable, through a URI filename, which
    // better-sqlite3 allows only process-wide; the one safe answer here is to say so.)
    if ((error as { code?: unknown }).code === 'SQLITE_READONLY_DIRECTORY' && !existsSync(`${path}-wal`)) {
      throw new DatabaseUnavailableError(path, `cannot be read from this folder: SQLite must create ${basename(path)}-shm beside a WAL database to read it, and this process cannot write the folder; copy the file to a folder it can write, or read it as a user who can`, error);
    }
    throw sqliteFailure(path, error, options.timeoutMs, 'open');
  }
}

/** Refuses a database that holds no hotpatch store, or one of another schema version. */
function checkSchema(db: SqliteDatabase, path: string): void {
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
  if (!tables.includes('schema_migrations') || !tables.includes('events')) {
    const empty = statSync(path).size === 0;
    throw new NotAStoreError(path, empty ? 'an empty file, not a hotpatch store' : tables.length === 0 ? 'a SQLite database without tables, not a hotpatch store' : foreignTables(tables));
  }
  const version = db.prepare<[], number | null>('SELECT MAX(version) FROM schema_migrations').pluck().get() ?? 0;
  if (version > SCHEMA_VERSION) throw new SchemaTooNewError(path, version, SCHEMA_VERSION);
  if (version < SCHEMA_VERSION) throw new SchemaNotMigratedError(path, version, SCHEMA_VERSION);
}

/**
 * `PRAGMA journal_mode = WAL`, retried while another process holds the lock it needs: on a new file that several
 * processes open at once, SQLite answers SQLITE_BUSY to it at once, without the busy timeout's wait (seen in the
 * two-writer test, about one run in three under load).
 */
function enableWal(db: SqliteDatabase, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      // An in-memory database has no WAL: it keeps its 'memory' journal.
      if (mode !== 'wal' && !(db.memory && mode === 'memory')) throw new Error(`${db.name}: SQLite would not switch to WAL (journal_mode is ${String(mode)})`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, 5 + Math.floor(Math.random() * 20));
    }
  }
}

/**
 * What SQLite (or better-sqlite3) said, as a typed error naming the file where a user can cause it: a file that is
 * not SQLite, a write lock held too long, a read-only file or directory, a full disk; and, while opening, a missing
 * file or directory, or a directory given as the file. Anything else is returned as it is.
 */
export function sqliteFailure(path: string, error: unknown, timeoutMs: number, during: 'open' | 'use'): unknown {
  if (error instanceof HotpatchError) return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (during === 'open' && error instanceof TypeError && /directory does not exist/.test(message)) return new DatabaseUnavailableError(path, 'its directory does not exist', error);
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  if (code === 'SQLITE_NOTADB') return new NotAStoreError(path, 'not a SQLite database');
  if (code.startsWith('SQLITE_BUSY')) return new DatabaseBusyError(path, timeoutMs);
  if (code.startsWith('SQLITE_READONLY')) return new DatabaseUnavailableError(path, READ_ONLY, error);
  if (code === 'SQLITE_FULL') return new DatabaseUnavailableError(path, 'the disk is full', error);
  if (code.startsWith('SQLITE_CORRUPT')) return new DatabaseUnavailableError(path, `a damaged SQLite database (${message})`, error);
  if (during === 'open' && (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR'))) {
    const found = existsSync(path) ? statSync(path) : undefined;
    return new DatabaseUnavailableError(path, found === undefined ? 'no such file' : found.isDirectory() ? 'a directory, not a database file' : `cannot be opened (${message})`, error);
  }
  return error;
}

/** Why a database with tables of its own is not a hotpatch store. */
function foreignTables(tables: readonly string[]): string {
  return `a SQLite database without hotpatch's tables (it holds ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}), not a hotpatch store`;
}
