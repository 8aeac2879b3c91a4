/**
 * A named tenant's report in the report thread: the serving thread resolved its tenant from the agent's token (the
 * proof that it exists), so the worker makes the tenant at once. Before, the worker learnt tenants as a service
 * with no ticks does, by reading the log for tokens: the first report of a named tenant after each start of the worker
 * read the whole log from its first event (6.4 million events for a year of 100,000 devices), every report of that
 * tenant waiting meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { afterAll, expect, it } from 'vitest';
import { PROFILE, startHarness } from './testing/harness.js';
import { RELEASE } from './testing/report-thread.js';

const storeSqlite = fileURLToPath(new URL('../../store-sqlite/dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hotpatch-thread-tenants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a named tenant first reported in the worker is not looked for in the whole log', async () => {
  const path = join(dir, 'hotpatch.db');
  const counted = join(dir, 'read.txt');
  writeFileSync(counted, '');
  // The worker's store, counting the events its log reads (readAll) give, in a file this thread reads.
  const opener = join(dir, 'open-store.mjs');
  writeFileSync(
    opener,
    `import { appendFileSync } from 'node:fs';
import { openSqliteEventStore } from ${JSON.stringify(storeSqlite)};
export const openStore = ({ path, counted }) => {
  const store = openSqliteEventStore({ path, durability: 'normal' });
  const readAll = store.readAll.bind(store);
  store.readAll = async (o) => { const events = await readAll(o); appendFileSync(counted, events.length + '\\n'); return events; };
  return store;
};
`,
  );
  const store = openSqliteEventStore({ path, durability: 'normal' });
  // A log of some length before the tenant's first report: 3,000 tokens of the default tenant.
  await store.batch!(async () => {
    for (let i = 0; i < 3000; i++) await store.appendToStream(`token/${i.toString(16).padStart(16, '0')}`, [{ id: randomUUID(), type: 'TokenIssued', time: new Date().toISOString(), data: { role: 'auditor', hash: 'a'.repeat(64) } }], { expectedVersion: 'no_stream' });
  });
  const h = await startHarness({ store, clock: undefined, reportThread: { openStore: { module: opener, argument: { path, counted } } } });
  try {
    const operator = await h.token('operator');
    const agent = await h.token('agent', { tenant: 'acme', device: 'a1' });
    expect((await h.call('PUT', '/v1/devices/a1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
    expect((await h.call('POST', '/v1/rollouts', { token: operator, headers: { 'hotpatch-tenant': 'acme' }, body: RELEASE })).status).toBe(201);
    await h.app.hotpatch.tickOnce();
    const before = readFileSync(counted, 'utf8').split('\n').filter(Boolean).map(Number).reduce((a, b) => a + b, 0);
    const r = await h.call('POST', '/v1/reports', { token: agent, body: { id: randomUUID(), kind: 'applied', device: 'a1', patch: RELEASE.id } });
    expect(r).toMatchObject({ status: 200, body: { status: 'recorded' } });
    const read = readFileSync(counted, 'utf8').split('\n').filter(Boolean).map(Number).reduce((a, b) => a + b, 0) - before;
    // One pass over the log at most (the tenant's projection made in the worker); the tokens' search was a second.
    const end = (await store.readAll({ fromPosition: 1 })).length;
    expect(read).toBeLessThanOrEqual(end);
  } finally {
    await h.app.close();
    await store.close();
  }
});
