/** The SQLite store's reads: a stream by versions, the log from a position, one event by id, heads and versions. */
import { checkReadOptions, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent } from '@hotpatch/store';
import type { SqliteContext } from './context.js';
import { toEvent, type EventRow } from './statements.js';

export function createReads(ctx: SqliteContext) {
  const { sql: q, batches } = ctx;
  return {
    readStream(stream: string, o: ReadStreamOptions): RecordedEvent[] {
      checkReadOptions(`readStream ${stream}`, o);
      const rows = q.readStreamRows(o.limit).all(stream, Math.max(1, o.fromVersion ?? 1), o.toVersion ?? Number.MAX_SAFE_INTEGER) as EventRow[];
      return rows.map(toEvent);
    },

    readAll(o: ReadAllOptions): RecordedEvent[] {
      checkReadOptions('readAll', o);
      // Inside a batch that holds the write lock, nothing past its own last append can exist: no query needed.
      if (batches.active?.begun && (o.fromPosition ?? 1) > batches.active.lastPosition) return [];
      return (q.readAllRows(o.limit).all(Math.max(1, o.fromPosition ?? 1)) as EventRow[]).map(toEvent);
    },

    readEvent(stream: string, id: string): RecordedEvent | undefined {
      const row = typeof id === 'string' ? (q.readEvent.get(stream, id) as EventRow | undefined) : undefined;
      return row === undefined ? undefined : toEvent(row);
    },

    streamVersion: (stream: string): number => q.stream.get(stream)?.version ?? 0,

    streamHeads: (): Array<[string, string]> => q.heads.all() as Array<[string, string]>,
  };
}
