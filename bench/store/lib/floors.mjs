/** Floors for store.bench.mjs: what each engine alone does, to say what bounds a figure. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { PG_URL, quick, RUN_ID } from './config.mjs';
import { deviceEvent } from './workload.mjs';

/**
 * The storage engine's share of our SQLite appends: the rows our store writes for batches of 1,000 (same table,
 * indexes and pragmas, pre-built), one prepared INSERT per row, one transaction per 1,000: no JavaScript work.
 */
async function sqliteInsertFloor() {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-floor-'));
  const store = openSqliteEventStore({ path: join(dir, 'floor.db') });
  try {
    const rows = workloadRows(quick ? 20_000 : 200_000, 1_000);
    const insert = store.db.prepare('INSERT INTO events (stream, version, id, type, time, data, meta, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const batch = store.db.transaction((from, to) => {
      for (let i = from; i < to; i++) insert.run(rows[i]);
    });
    const t = performance.now();
    for (let i = 0; i < rows.length; i += 1_000) batch.immediate(i, Math.min(rows.length, i + 1_000));
    return Math.round(rows.length / ((performance.now() - t) / 1000));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows as our SQLite store stores them (stream, version, id, type, time, data, meta, hash), `batch` per stream. */
function workloadRows(count, batch) {
  const rows = [];
  for (let i = 0; i < count; i++) {
    const e = deviceEvent(i % batch === 0);
    rows.push([`device/floor-${Math.floor(i / batch)}`, (i % batch) + 1, e.id, e.type, e.time, JSON.stringify(e.data), null, 'f'.repeat(64)]);
  }
  return rows;
}

/** JSON.parse of one event's data, the per-row work every store's readAll does at least once. */
export function jsonParseFloor() {
  const texts = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(deviceEvent(i % 20 === 0).data));
  const t = performance.now();
  let parsed = 0;
  for (const text of texts) parsed += JSON.parse(text) ? 1 : 0;
  return Math.round(parsed / ((performance.now() - t) / 1000));
}

/** SQLite on a connection set up like our store's (WAL, synchronous=FULL): bare one-row transactions (the fsync floor). */
async function sqliteCommitFloor() {
  const dir = mkdtempSync(join(tmpdir(), 'hotpatch-floor-'));
  const store = openSqliteEventStore({ path: join(dir, 'floor.db') });
  try {
    store.db.exec('CREATE TABLE floor (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = store.db.prepare('INSERT INTO floor (body) VALUES (?)');
    const one = store.db.transaction((body) => insert.run(body));
    const commits = quick ? 200 : 1_000;
    const t = performance.now();
    for (let i = 0; i < commits; i++) one.immediate(`{"n":${i}}`);
    return Math.round(commits / ((performance.now() - t) / 1000));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PostgreSQL on one connection: SELECT 1 round trips, and one-row autocommit INSERTs (each a WAL flush). */
async function pgFloors() {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  const table = `floor_${RUN_ID}`;
  try {
    const trips = quick ? 500 : 3_000;
    let t = performance.now();
    for (let i = 0; i < trips; i++) await client.query('SELECT 1');
    const pgRoundTripsPerSec = Math.round(trips / ((performance.now() - t) / 1000));
    // A real table: a temporary one writes no WAL.
    await client.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, body jsonb NOT NULL)`);
    const commits = quick ? 200 : 1_000;
    t = performance.now();
    for (let i = 0; i < commits; i++) await client.query(`INSERT INTO ${table} (body) VALUES ($1)`, [`{"n":${i}}`]);
    return { pgRoundTripsPerSec, pgCommitsPerSec: Math.round(commits / ((performance.now() - t) / 1000)) };
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await client.end();
  }
}

/** The floors of one engine, measured just before its stores run, so that they see the same machine. */
export async function measureFloors(engine) {
  if (engine === 'memory') return {};
  if (engine === 'sqlite') return { sqliteCommitsPerSec: await sqliteCommitFloor(), sqliteInsertRowsPerSec: await sqliteInsertFloor() };
  return pgFloors();
}
