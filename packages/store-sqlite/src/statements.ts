/** The SQLite store's SQL: its prepared statements, and its rows read back as events. */
import { InvalidEventError } from '@hotpatch/core';
import type { RecordedEvent } from '@hotpatch/store';
// Its types by name (not `Database.Database`): the declarations then compile without esModuleInterop.
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';

export type EventRow = [position: number, stream: string, version: number, id: string, type: string, time: string, data: string, meta: string | null, hash: string];

export const toEvent = (r: EventRow): RecordedEvent =>
  ({
    id: r[3],
    stream: r[1],
    version: r[2],
    type: r[4],
    time: r[5],
    data: column(r, 6, 'data'),
    ...(r[7] !== null ? { meta: column(r, 7, 'meta') } : {}),
    position: r[0],
    hash: r[8],
  }) as RecordedEvent;

/** A JSON column of a row: text the store wrote, so text that does not parse was changed behind its back. */
function column(r: EventRow, index: 6 | 7, name: 'data' | 'meta'): unknown {
  try {
    return JSON.parse(r[index] as string);
  } catch {
    throw new InvalidEventError({ position: r[0], stream: r[1], version: r[2] }, `not valid JSON in the store: the database was changed behind the store's back`, name);
  }
}

const COLUMNS = 'position, stream, version, id, type, time, data, meta, hash';
/** Rows per INSERT statement (8 parameters each; SQLite allows 32,766 parameters per statement). */
export const INSERT_ROWS = 64;

/** The row of `headAndSnapshot`: the stream's head (nulls: no stream) and its snapshot (nulls: none). */
export interface HeadAndSnapshot {
  readonly version: number | null;
  readonly hash: string | null;
  readonly snapshotVersion: number | null;
  readonly machine: string | null;
  readonly state: string | null;
}

/** A read whose LIMIT is written into its SQL (see limitedReads). */
type LimitedRead<P extends unknown[]> = (limit: number | undefined) => { all(...params: P): unknown[] };

export interface Statements {
  readonly stream: Statement<[string], { version: number; hash: string }>;
  readonly eventById: Statement<[string], { stream: string; version: number; position: number; type: string; data: string }>;
  readonly upsertStream: Statement;
  readonly snapshot: Statement<[string], { version: number; machine: string; state: string }>;
  /** A stream's head and its snapshot in one statement (one row, nulls for what is missing): a first read of it. */
  readonly headAndSnapshot: Statement<[string], HeadAndSnapshot>;
  readonly upsertSnapshot: Statement;
  readonly refreshSnapshot: Statement;
  readonly readEvent: Statement<[string, string]>;
  readonly checkpoint: Statement<[string], { position: number }>;
  readonly insertCheckpoint: Statement;
  readonly updateCheckpoint: Statement;
  readonly heads: Statement<[], [string, string]>;
  readonly projection: Statement<[string], { position: number; data: string }>;
  readonly saveProjection: Statement;
  readonly lastPosition: Statement<[], number>;
  readonly projectionParts: Statement<[string], string>;
  readonly dropProjectionParts: Statement;
  readonly insertProjectionPart: Statement;
  readonly readStreamRows: LimitedRead<[string, number, number]>;
  readonly readAllRows: LimitedRead<[number]>;
  /** The INSERT of `rows` events (1 … INSERT_ROWS). */
  readonly insertRows: (rows: number) => Statement;
}

/** Every statement the store runs, prepared once per connection (the INSERTs and limited reads when first needed). */
export function prepareStatements(db: SqliteDatabase): Statements {
  // INSERT statements for 1 … INSERT_ROWS rows, prepared when first needed.
  const inserts = new Map<number, Statement>();
  const insertRows = (rows: number): Statement => {
    let statement = inserts.get(rows);
    if (!statement) {
      statement = db.prepare(`INSERT INTO events (stream, version, id, type, time, data, meta, hash) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
      inserts.set(rows, statement);
    }
    return statement;
  };

  return {
    stream: db.prepare<[string], { version: number; hash: string }>('SELECT version, hash FROM streams WHERE stream = ?'),
    // Ids are unique across the log (migration 4): where an id is held, whichever stream holds it.
    eventById: db.prepare<[string], { stream: string; version: number; position: number; type: string; data: string }>('SELECT stream, version, position, type, data FROM events WHERE id = ?'),
    upsertStream: db.prepare('INSERT INTO streams (stream, version, hash) VALUES (?, ?, ?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, hash = excluded.hash'),
    snapshot: db.prepare<[string], { version: number; machine: string; state: string }>('SELECT version, machine, state FROM snapshots WHERE stream = ?'),
    headAndSnapshot: db.prepare<[string], HeadAndSnapshot>(
      'SELECT s.version AS version, s.hash AS hash, p.version AS snapshotVersion, p.machine AS machine, p.state AS state FROM (SELECT ? AS stream) AS k LEFT JOIN streams AS s ON s.stream = k.stream LEFT JOIN snapshots AS p ON p.stream = k.stream',
    ),
    upsertSnapshot: db.prepare(
      'INSERT INTO snapshots (stream, version, machine, state) VALUES (?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state',
    ),
    refreshSnapshot: db.prepare(
      'INSERT INTO snapshots (stream, version, machine, state) VALUES (?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET version = excluded.version, machine = excluded.machine, state = excluded.state WHERE snapshots.machine <> excluded.machine OR snapshots.version < excluded.version',
    ),
    readEvent: db.prepare<[string, string]>(`SELECT ${COLUMNS} FROM events WHERE stream = ? AND id = ?`).raw(true),
    checkpoint: db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE consumer = ?'),
    insertCheckpoint: db.prepare('INSERT INTO checkpoints (consumer, position, updated) VALUES (?, ?, ?) ON CONFLICT (consumer) DO NOTHING'),
    updateCheckpoint: db.prepare('UPDATE checkpoints SET position = ?, updated = ? WHERE consumer = ? AND position = ?'),
    heads: db.prepare<[], [string, string]>('SELECT stream, hash FROM streams ORDER BY stream').raw(true),
    projection: db.prepare<[string], { position: number; data: string }>('SELECT position, data FROM projections WHERE name = ?'),
    saveProjection: db.prepare(
      'INSERT INTO projections (name, position, data, updated) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, data = excluded.data, updated = excluded.updated WHERE projections.position < excluded.position',
    ),
    lastPosition: db.prepare<[], number>('SELECT MAX(position) FROM events').pluck(),
    projectionParts: db.prepare<[string], string>('SELECT data FROM projection_parts WHERE name = ? ORDER BY part').pluck(),
    dropProjectionParts: db.prepare('DELETE FROM projection_parts WHERE name = ?'),
    insertProjectionPart: db.prepare('INSERT INTO projection_parts (name, part, data) VALUES (?, ?, ?)'),
    // Reads with their LIMIT written into the SQL, one statement per limit, prepared when first needed. A bound
    // `LIMIT ?` costs a full re-prepare on every run (SQLite, built with STAT4 as better-sqlite3 builds it, plans
    // afresh whenever a parameter the plan may depend on is bound): about 11 µs, twenty times the read of a short
    // page. Callers use a handful of page sizes; past LIMITED_STATEMENTS of them, the bound form serves the rest.
    readStreamRows: limitedReads<[string, number, number]>(db, `SELECT ${COLUMNS} FROM events WHERE stream = ? AND version >= ? AND version <= ? ORDER BY version`),
    readAllRows: limitedReads<[number]>(db, `SELECT ${COLUMNS} FROM events WHERE position >= ? ORDER BY position`),
    insertRows,
  };
}

/** How many limits each read keeps a statement of its own for. */
const LIMITED_STATEMENTS = 16;

/**
 * The statement for `sql` with at most `limit` rows (no LIMIT when undefined): the limit written into the SQL,
 * which SQLite plans once, for the first LIMITED_STATEMENTS limits asked for; `LIMIT ?` bound after that.
 * `limit` has been checked: a whole number ≥ 0 (checkReadOptions).
 */
function limitedReads<P extends unknown[]>(db: SqliteDatabase, sql: string): LimitedRead<P> {
  const unlimited = db.prepare(sql).raw(true);
  const byLimit = new Map<number, Statement>();
  let bound: Statement | undefined;
  return (limit) => {
    if (limit === undefined) return unlimited as never;
    let statement = byLimit.get(limit);
    if (statement === undefined) {
      if (byLimit.size < LIMITED_STATEMENTS) {
        statement = db.prepare(`${sql} LIMIT ${limit}`).raw(true);
        byLimit.set(limit, statement);
      } else {
        bound ??= db.prepare(`${sql} LIMIT ?`).raw(true);
        const withLimit = bound;
        return { all: (...params: P) => withLimit.all(...params, limit) } as never;
      }
    }
    return statement as never;
  };
}
