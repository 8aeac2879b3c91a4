/** The PostgreSQL store's reads: a stream by versions, the log from a position, one event by id, heads and versions. */
import { checkReadOptions, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent } from '@hotpatch/store';
import type { BatchReads } from './batch-read.js';
import type { Connections } from './connection.js';
import type { PostgresContext } from './context.js';
import { toEvent, unheld, type EventRow } from './statements.js';

/** Reads, each answered by the caller's batch where it can (see batch-read.ts). */
export function createReads(ctx: PostgresContext, connections: Connections, fromBatch: BatchReads) {
  const q = ctx.sql;
  const { onConnection, query, rowsOf } = connections;
  return {
    async readStream(stream: string, o: ReadStreamOptions): Promise<RecordedEvent[]> {
      checkReadOptions(`readStream ${stream}`, o);
      if (unheld(stream)) return [];
      const rows = await rowsOf('readStream', stream, { ...q.readStream, values: [stream, Math.max(1, o.fromVersion ?? 1), o.toVersion ?? Number.MAX_SAFE_INTEGER, o.limit ?? null] });
      return rows.map(toEvent);
    },

    async readAll(o: ReadAllOptions): Promise<RecordedEvent[]> {
      checkReadOptions('readAll', o);
      const from = Math.max(1, o.fromPosition ?? 1);
      const limit = o.limit ?? null;
      return onConnection(
        'readAll',
        undefined,
        async (db) => ((await db.query<never>({ ...q.readAll, values: [from, limit], rowMode: 'array' })).rows as unknown as EventRow[]).map(toEvent),
        (batch) => fromBatch.readAll(batch, from, limit),
        { text: q.readAllText(from, limit), take: (result) => (result.rows as unknown as EventRow[]).map(toEvent) },
      );
    },

    async readEvent(stream: string, id: string): Promise<RecordedEvent | undefined> {
      if (typeof id !== 'string' || unheld(stream) || unheld(id)) return undefined;
      return onConnection(
        'readEvent',
        stream,
        async (db) => {
          const [row] = (await db.query<never>({ ...q.readEvent, values: [stream, id], rowMode: 'array' })).rows as unknown as EventRow[];
          return row === undefined ? undefined : toEvent(row);
        },
        (batch) => fromBatch.readEvent(batch, stream, id),
      );
    },

    streamVersion: (stream: string): Promise<number> =>
      unheld(stream)
        ? Promise.resolve(0)
        : onConnection(
            'streamVersion',
            stream,
            async (db) => (await db.query<{ version: number }>({ ...q.streamVersion, values: [stream] })).rows[0]?.version ?? 0,
            (batch) => fromBatch.streamVersion(batch, stream),
          ),

    async streamHeads(): Promise<Array<[string, string]>> {
      const { rows } = await query<never>('streamHeads', undefined, { ...q.heads, rowMode: 'array' });
      return rows as unknown as Array<[string, string]>;
    },
  };
}
