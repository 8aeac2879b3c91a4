/** Where a PostgreSQL store's query runs: on the caller's batch's connection, else on the pool, and what a failure there means. */
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { Known } from './batch-read.js';
import type { Batches, OpenBatch } from './batch.js';
import type { PostgresContext } from './context.js';
import { ConnectionLostError, isConnectionError } from './errors.js';
import type { EventRow } from './statements.js';

export interface Connections {
  /**
   * Runs `work` on a connection: the batch's when the caller is in one (after its buffered appends are written),
   * unless the batch `known`s the answer, else the pool. A broken connection becomes ConnectionLostError.
   */
  onConnection<T>(operation: string, stream: string | undefined, work: (db: Pool | PoolClient) => Promise<T>, known?: (batch: OpenBatch) => Known<T>, opening?: Opening<T>): Promise<T>;
  query<R extends QueryResultRow = QueryResultRow>(operation: string, stream: string | undefined, config: QueryConfig & { rowMode?: 'array' }): Promise<QueryResult<R>>;
  /** The events a statement reads, as rows. */
  rowsOf(operation: string, stream: string | undefined, config: QueryConfig): Promise<EventRow[]>;
  /** Runs `work` in a transaction on one connection (the batch's, in one); a broken connection becomes ConnectionLostError (for `operation`) and is discarded. */
  transaction<T>(operation: string, work: (client: PoolClient) => Promise<T>): Promise<T>;
}

/**
 * The same read as literal SQL, for a batch whose transaction has not begun: sent with its BEGIN, one round trip
 * instead of two (a unit's first read, the projection's catch-up, is one at every unit of work).
 */
export interface Opening<T> {
  readonly text: string;
  readonly take: (result: QueryResult<never>) => T;
}

export function createConnections(ctx: PostgresContext, batches: Batches): Connections {
  const { pool, sql: q, busy } = ctx;

  const onConnection = async <T>(operation: string, stream: string | undefined, work: (db: Pool | PoolClient) => Promise<T>, known?: (batch: OpenBatch) => Known<T>, opening?: Opening<T>): Promise<T> => {
    const batch = batches.own();
    if (batch !== undefined) {
      return batches.serial(batch, async () => {
        if (batch.poisoned !== undefined) throw batch.poisoned;
        const answer = known?.(batch);
        if (answer !== undefined) return answer.value;
        const first = opening !== undefined && !batch.begun;
        const client = first ? undefined : await batches.client(batch);
        if (!first) await batches.flush(batch);
        if (batch.poisoned !== undefined) throw batch.poisoned;
        try {
          return first ? opening.take(await batches.beginWith(batch, opening.text)) : await work(client!);
        } catch (error) {
          batch.poisoned = batches.lostIn(batch, operation, stream, error);
          throw batch.poisoned;
        }
      });
    }
    try {
      return await work(pool);
    } catch (error) {
      throw isConnectionError(error) ? new ConnectionLostError(operation, stream, error) : busy(error);
    }
  };
  const query = <R extends QueryResultRow = QueryResultRow>(operation: string, stream: string | undefined, config: QueryConfig & { rowMode?: 'array' }): Promise<QueryResult<R>> =>
    onConnection(operation, stream, (db) => db.query<R>(config as QueryConfig));

  return {
    onConnection,
    query,
    rowsOf: async (operation, stream, config) => (await query<never>(operation, stream, { ...config, rowMode: 'array' })).rows as unknown as EventRow[],

    async transaction<T>(operation: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
      if (batches.own() !== undefined) return onConnection(operation, undefined, (client) => work(client as PoolClient));
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw isConnectionError(error) ? new ConnectionLostError(operation, undefined, error) : error;
      }
      // While the connection is checked out the pool does not listen for its errors: a broken socket must not crash.
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken ??= error;
      };
      client.on('error', onError);
      try {
        await client.query(q.begin);
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (broken !== undefined || isConnectionError(error)) {
          broken ??= error as Error;
          throw new ConnectionLostError(operation, undefined, error);
        }
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw busy(error);
      } finally {
        client.removeListener('error', onError);
        client.release(broken);
      }
    },
  };
}
