/**
 * What the PostgreSQL tests share: the server's URL (HOTPATCH_TEST_POSTGRES_URL; the tests are skipped without
 * it), throwaway schemas with a random suffix, dropped at the end, and an administration pool.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const url = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!url) console.warn('PostgreSQL tests skipped: HOTPATCH_TEST_POSTGRES_URL is not set');

const suffix = randomBytes(4).toString('hex');
let n = 0;
const made = new Set<string>();

/** A new schema name, unique to this run: hotpatch_test_<random>_<n>. */
export function newSchema(): string {
  const schema = `hotpatch_test_${suffix}_${++n}`;
  made.add(schema);
  return schema;
}

let adminPool: pg.Pool | undefined;
export function admin(): pg.Pool {
  if (!adminPool) {
    adminPool = new pg.Pool({ connectionString: url, max: 2 });
    adminPool.on('error', () => {});
  }
  return adminPool;
}

export async function dropSchema(schema: string): Promise<void> {
  await admin().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  made.delete(schema);
}

/** Drops what is left of this run's schemas and closes the administration pool. */
export async function dropAll(): Promise<void> {
  if (!adminPool) return;
  for (const schema of [...made]) await dropSchema(schema);
  await adminPool.end();
  adminPool = undefined;
}

/** Counts the statements a store's batches send (on the connections they take from the pool) while `work` runs. */
export async function roundTrips(store: { readonly pool: pg.Pool }, work: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  const count = (client: { query: (...args: unknown[]) => unknown }) => {
    const query = client.query;
    client.query = function (this: unknown, config: unknown, ...rest: unknown[]) {
      const c = config as { name?: string; text?: string } | string;
      sent.push(typeof c === 'string' ? c : (c.name ?? c.text ?? 'COPY'));
      return query.call(this, config, ...rest);
    };
    return () => void (client.query = query);
  };
  const restores: Array<() => void> = [];
  const onAcquire = (client: never) => restores.push(count(client));
  store.pool.on('acquire', onAcquire);
  try {
    await work();
  } finally {
    store.pool.removeListener('acquire', onAcquire);
    for (const restore of restores) restore();
  }
  return sent;
}
