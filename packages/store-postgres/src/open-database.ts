/**
 * Opening a PostgreSQL schema as an event store, to write it (the schema created and migrated) or only to read it
 * (never created or migrated, every session read-only), and why a server could not be used, as typed errors naming
 * the server, the database and the role.
 */
import { DatabaseUnavailableError, NotAStoreError, SchemaNotMigratedError, SchemaTooNewError } from '@hotpatch/store';
import pg from 'pg';
import { migrate, SCHEMA_VERSION } from './migrations.js';

/** "PostgreSQL database D at HOST:PORT as ROLE", from what the pool will connect with (no connection is made). */
export function describeServer(config: pg.PoolConfig): string {
  const c = new pg.Client(config) as pg.Client & { host: string; port: number; database?: string; user?: string };
  return `PostgreSQL database ${c.database ?? c.user ?? '?'} at ${c.host}:${c.port} as ${c.user ?? '?'}`;
}

/**
 * Each new session's settings (a reader's read-only, a writer's lock_timeout), sent before the pool hands the
 * connection out: a SET sent on the pool's 'connect' event raced the caller's first query (pg's "already executing
 * a query" DeprecationWarning). Not the startup `options`, which a connection string's own `options=` would replace.
 * The caller's own onConnect runs first.
 */
export function sessionSetup(own: pg.PoolConfig['onConnect'], statements: readonly string[]): (client: pg.ClientBase) => Promise<void> {
  return async (client) => {
    await own?.(client);
    for (const statement of statements) await client.query(statement);
  };
}

/**
 * Connects and readies the schema: a writer migrates it (creating it when missing); a reader checks that it holds a
 * hotpatch store of this build's schema. A server that cannot be reached or refuses the connection gives
 * DatabaseUnavailableError.
 */
export async function openSchema(pool: pg.Pool, schema: string, server: string, readonly: boolean): Promise<void> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw unavailable(server, error);
  }
  try {
    if (readonly) await checkSchema(client, schema, server);
    else await migrate(client, schema);
  } catch (error) {
    client.release(true);
    throw error;
  }
  client.release();
}

async function checkSchema(client: pg.ClientBase, schema: string, server: string): Promise<void> {
  const { rows } = await client.query<{ schema_exists: boolean; migrations: boolean; events: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists,
            to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL AS migrations,
            to_regclass(quote_ident($1) || '.events') IS NOT NULL AS events`,
    [schema],
  );
  const found = rows[0]!;
  const where = `no hotpatch store in schema ${schema}`;
  if (!found.schema_exists) throw new NotAStoreError(server, `${where}: there is no such schema`);
  if (!found.migrations || !found.events) throw new NotAStoreError(server, `${where}: the schema exists but holds no hotpatch tables`);
  const version = (await client.query<{ v: number | null }>(`SELECT MAX(version) AS v FROM "${schema}".schema_migrations`)).rows[0]!.v ?? 0;
  const database = `${server}, schema ${schema}`;
  if (version > SCHEMA_VERSION) throw new SchemaTooNewError(database, version, SCHEMA_VERSION);
  if (version < SCHEMA_VERSION) throw new SchemaNotMigratedError(database, version, SCHEMA_VERSION);
}

const UNREACHABLE: Readonly<Record<string, string>> = {
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
  ECONNREFUSED: 'connection refused: is PostgreSQL running there, on that port?',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the server closed the connection',
};

/**
 * Why a connection could not be made, in one line naming the server: the network's answer (unknown host, refused,
 * timed out) or the server's own message (no such role or database, authentication failed, too many connections).
 */
export function unavailable(server: string, error: unknown): DatabaseUnavailableError {
  const code = (error as { code?: unknown })?.code;
  const network = typeof code === 'string' ? UNREACHABLE[code] : undefined;
  return new DatabaseUnavailableError(server, `cannot connect: ${network ?? (error instanceof Error ? error.message : String(error))}`, error);
}
