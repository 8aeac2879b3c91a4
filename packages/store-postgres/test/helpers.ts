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
