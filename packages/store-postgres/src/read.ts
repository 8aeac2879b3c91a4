/** The PostgreSQL store's reads: a stream by versions, the log from a position, one event by id, heads and versions. */
import { checkReadOptions, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent } from '@hotpatch/store';
import type { Connections } from './connection.js';
import type { PostgresContext } from './context.js';
import { toEvent } from './statements.js';

export function createReads(ctx: PostgresContext, connections: Connections) {
  const q = ctx.sql;
  const { query, rowsOf } = connections;
  return {
    async readStream(stream: string, o: ReadStreamOptions): Promise<RecordedEvent[]> {
      checkReadOptions(`readStream ${stream}`, o);
      const rows = await rowsOf('readStream', stream, { ...q.readStream, values: [stream, Math.max(1, o.fromVersion ?? 1), o.toVersion ?? Number.MAX_SAFE_INTEGER, o.limit ?? null] });
      return rows.map(toEvent);
    },

    async readAll(o: ReadAllOptions): Promise<RecordedEvent[]> {
      checkReadOptions('readAll', o);
      return (await rowsOf('readAll', undefined, { ...q.readAll, values: [Math.max(1, o.fromPosition ?? 1), o.limit ?? null] })).map(toEvent);
    },

    async readEvent(stream: string, id: string): Promise<RecordedEvent | undefined> {
      if (typeof id !== 'string') return undefined;
      const [row] = await rowsOf('readEvent', stream, { ...q.readEvent, values: [stream, id] });
      return row === undefined ? undefined : toEvent(row);
    },

    streamVersion: async (stream: string): Promise<number> => (await query<{ version: number }>('streamVersion', stream, { ...q.streamVersion, values: [stream] })).rows[0]?.version ?? 0,

    async streamHeads(): Promise<Array<[string, string]>> {
      const { rows } = await query<never>('streamHeads', undefined, { ...q.heads, rowMode: 'array' });
      return rows as unknown as Array<[string, string]>;
    },
  };
}
