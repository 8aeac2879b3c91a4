// pg's types by name (not `pg.Pool`): the declarations then compile without esModuleInterop.
import type { Client, Pool, PoolConfig } from 'pg';
import type { Statements } from './statements.js';

/** What the PostgreSQL store's operations share: the pool, the statements and the store's options. */
export interface PostgresContext {
  readonly schema: string;
  readonly pool: Pool;
  /** The pool's configuration, for the connections the store opens beside it (LISTEN, consumer locks). */
  readonly poolConfig: Omit<PoolConfig, 'Client'>;
  /** The client those connections are made with: bounded as the pool's (silent-server.ts). */
  readonly Client: typeof Client;
  readonly sql: Statements;
  /** The channel appends NOTIFY: `<schema>.events`. */
  readonly channel: string;
  readonly readonly: boolean;
  readonly newId: () => string;
  /** The machine fingerprint snapshots of `stream` are written and accepted with. */
  readonly machineOf: (stream: string) => string;
  readonly stateCacheSize: number;
  /** A lock waited for past busyTimeoutMs (SQLSTATE 55P03, lock_not_available) is the other writer's: DatabaseBusyError. */
  readonly busy: (error: unknown) => unknown;
  /** Throws StoreClosedError once the store is closed. */
  readonly open: () => void;
  readonly isClosed: () => boolean;
}
