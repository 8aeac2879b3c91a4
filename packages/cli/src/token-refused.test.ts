/**
 * `hotpatch token` refused writes nothing, on PostgreSQL as on SQLite: a scope that does not fit its role, a tenant
 * that breaks the tenant rule, a token not in the store. On PostgreSQL each of them made the store's schema and
 * tables before being refused (a schema left behind), and a tenant's refusal named the token's stream and the
 * event's field (`token/0b66…@1: data.tenant: …`) instead of --tenant.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const pgUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!pgUrl) console.warn('token-refused.test.ts: its PostgreSQL half skipped: HOTPATCH_TEST_POSTGRES_URL is not set');
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-token-refused-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refusals = (store: string) =>
  [
    [['token', 'create', '--role', 'agent', '--store', store], 'hotpatch token: an agent token is bound to a tenant and a device (--tenant T --device D)'],
    [['token', 'create', '--role', 'operator', '--tenant', 'acme', '--store', store], 'hotpatch token: an operator token acts for the service: no --tenant, no --device'],
    [['token', 'create', '--role', 'agent', '--device', 'd1', '--tenant', '../x', '--store', store], expect.stringMatching(/^hotpatch token: tenant "\.\.\/x" holds "\/" at character 3; a tenant is /)],
    [['token', 'create', '--role', 'tenant-admin', '--tenant', 'x'.repeat(65), '--store', store], expect.stringMatching(/^hotpatch token: tenant "x+…?" (\(65 UTF-16 units\) )?is 65 characters long; a tenant is /)],
    [['token', 'revoke', '0123456789abcdef', '--store', store], 'hotpatch token: no token 0123456789abcdef'],
  ] as const;

describe('token refused', () => {
  it('on SQLite: one line naming what is wrong, no store made', async () => {
    const store = `sqlite:${join(dir, 'refused.db')}`;
    for (const [argv, err] of refusals(store)) {
      const r = await runCaptured([...argv]);
      expect({ code: r.code, err: r.err.trimEnd(), out: r.out }, argv.join(' ')).toEqual({ code: 1, err, out: '' });
    }
    expect(existsSync(join(dir, 'refused.db'))).toBe(false);
  });

  it.skipIf(!pgUrl)('on PostgreSQL: one line naming what is wrong, no schema made', async () => {
    const schema = `refused_${randomBytes(4).toString('hex')}`;
    const store = `${pgUrl}${pgUrl!.includes('?') ? '&' : '?'}schema=${schema}`;
    for (const [argv, err] of refusals(store)) {
      const r = await runCaptured([...argv]);
      expect({ code: r.code, err: r.err.trimEnd(), out: r.out }, argv.join(' ')).toEqual({ code: 1, err, out: '' });
    }
    const pg = createRequire(join(import.meta.dirname, '../../store-postgres/package.json'))('pg') as typeof import('pg');
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      expect(rows, `schema ${schema}`).toEqual([]);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });
});
