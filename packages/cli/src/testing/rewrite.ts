/** Test helpers: a log rewritten as an attacker would, every hash recomputed, so that only its seals can tell. */
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';

export interface Row {
  readonly position: number;
  readonly stream: string;
  readonly version: number;
  readonly id: string;
  readonly type: string;
  readonly time: string;
  readonly data: string;
  readonly meta: string | null;
}

/**
 * An attacker's rewrite: one event's time changed, its stream's hashes from it on chained again, the head moved:
 * the hash chain holds, so only the seals can tell.
 */
export async function rewrite(rows: (stream: string) => Promise<Row[]>, target: Row, write: (position: number, time: string, hash: string) => Promise<void>, head: (stream: string, hash: string) => Promise<void>): Promise<void> {
  let prev = GENESIS_HASH;
  for (const row of await rows(target.stream)) {
    const time = row.position === target.position ? '2026-01-01T00:00:00.000Z' : row.time;
    const event = { id: row.id, stream: row.stream, version: row.version, type: row.type, time, data: JSON.parse(row.data), ...(row.meta !== null ? { meta: JSON.parse(row.meta) } : {}) };
    prev = eventHash(prev, event);
    await write(row.position, time, prev);
  }
  await head(target.stream, prev);
}

/** Rewrites the SQLite store at `path` in place: the device event at `offset` (in position order) gets another time. */
export function rewriteSqlite(path: string, offset: number): Promise<void> {
  const sql = openSqliteEventStore({ path });
  const target = sql.db.prepare("SELECT * FROM events WHERE stream LIKE 'device/%' ORDER BY position LIMIT 1 OFFSET ?").get(offset) as Row;
  return rewrite(
    async (stream) => sql.db.prepare('SELECT * FROM events WHERE stream = ? ORDER BY version').all(stream) as Row[],
    target,
    async (position, time, hash) => void sql.db.prepare('UPDATE events SET time = ?, hash = ? WHERE position = ?').run(time, hash, position),
    async (stream, hash) => void sql.db.prepare('UPDATE streams SET hash = ? WHERE stream = ?').run(hash, stream),
  ).finally(() => sql.close());
}
