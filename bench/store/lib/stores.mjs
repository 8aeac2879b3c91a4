/**
 * The stores store.bench.mjs compares, behind one small shape: open() gives a handle with writers (1, or PG_WRITERS
 * for PostgreSQL), readAll(onPage), the durability in force, and close().
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryEventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { getSQLiteEventStore, readMessagesBatch as readEmmettSqliteBatch, sqliteConnection } from '@event-driven-io/emmett-sqlite';
import { getPostgreSQLEventStore, messagesTable, readMessagesBatch as readEmmettPgBatch } from '@event-driven-io/emmett-postgresql';
import { dumbo, single, sql } from '@event-driven-io/dumbo';
import { log, OUR_PG_DIST, PG_URL, PG_WRITERS, READ_PAGE, RUN_ID } from './config.mjs';
import { expectEmmettDrop, pgAdmin, pgDurability, pgUrlFor } from './pg-admin.mjs';


const sqlitePragma = async (get) => ({ 0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA' })[await get('synchronous')] ?? '?';

/**
 * Pages through a store's log with `readPage(after, limit) → { count, last }`; returns the events read. Stops
 * after `maxPages` (a warm-up reads one page).
 */
async function readAllPaged(readPage, maxPages = Infinity) {
  let after = 0;
  let total = 0;
  for (let page = 0; page < maxPages; page++) {
    const { count, last } = await readPage(after, READ_PAGE);
    total += count;
    if (count < READ_PAGE) break;
    after = last;
  }
  return total;
}

const ourReadAll = (store, maxPages) =>
  readAllPaged(async (after, limit) => {
    const page = await store.readAll({ fromPosition: after + 1, limit });
    return { count: page.length, last: page.at(-1)?.position ?? after };
  }, maxPages);

const ourWriter = (store) => (a) => store.appendToStream(a.stream, a.events);
const emmettWriter = (store) => (a) => store.appendToStream(a.stream, a.emmett);

export const STORES = [
  {
    name: 'memory',
    label: 'hotpatch in-memory',
    engine: 'memory',
    side: 'hotpatch',
    async open() {
      const store = createInMemoryEventStore();
      return { writers: [ourWriter(store)], durability: 'none (process memory)', readAll: (maxPages) => ourReadAll(store, maxPages), close: () => store.close() };
    },
  },
  {
    name: 'sqlite',
    label: 'hotpatch SQLite',
    engine: 'sqlite',
    side: 'hotpatch',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'hotpatch-bench-'));
      const store = openSqliteEventStore({ path: join(dir, 'events.db') });
      const journal = store.db.pragma('journal_mode', { simple: true });
      const sync = await sqlitePragma((p) => store.db.pragma(p, { simple: true }));
      return {
        writers: [ourWriter(store)],
        durability: `journal_mode=${journal}, synchronous=${sync} (the store's default)`,
        readAll: (maxPages) => ourReadAll(store, maxPages),
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    label: 'hotpatch PostgreSQL',
    engine: 'postgres',
    side: 'hotpatch',
    writers: PG_WRITERS,
    unavailable: () => (existsSync(OUR_PG_DIST) ? undefined : 'not built yet'),
    async open(settings) {
      // Imported only once built: packages/store-postgres is written alongside this benchmark.
      const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
      // A fresh schema: the store creates it and applies its migrations on open.
      const schema = `hotpatch_bench_${RUN_ID}`;
      const stores = [];
      try {
        // One at a time, so that the first applies the migrations and the others find nothing to do.
        for (let w = 0; w < PG_WRITERS; w++) stores.push(await createPostgresEventStore({ connectionString: PG_URL, schema }));
      } catch (error) {
        await Promise.allSettled(stores.map((s) => s.close()));
        await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
        throw error;
      }
      return {
        writers: stores.map(ourWriter),
        durability: pgDurability(settings),
        readAll: (maxPages) => ourReadAll(stores[0], maxPages),
        async close() {
          await Promise.allSettled(stores.map((s) => s.close()));
          await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
        },
      };
    },
  },
  {
    name: 'emmett-sqlite',
    label: 'Emmett SQLite',
    engine: 'sqlite',
    side: 'emmett',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'emmett-bench-'));
      const fileName = join(dir, 'events.db');
      // One connection for the store's life. Without it Emmett opens (and sets WAL on) a new sqlite3 connection
      // for every call when given a file name; that would only make it slower.
      const connection = sqliteConnection({ fileName });
      const pragma = async (p) => Object.values((await connection.querySingle(`PRAGMA ${p}`)) ?? {})[0];
      // Emmett fires `PRAGMA journal_mode = WAL` without waiting for it, and it races with the first transaction:
      // in 7 of 10 trials here the connection stayed in rollback-journal (DELETE) mode. Same mode as ours: WAL.
      await pragma('journal_mode = WAL');
      const store = getSQLiteEventStore({ fileName, connectionOptions: { singleton: true, connection } });
      await store.schema.migrate();
      const journal = await pragma('journal_mode');
      if (journal !== 'wal') throw new Error(`Emmett SQLite: journal_mode is ${journal}, not wal`);
      const sync = await sqlitePragma(pragma);
      return {
        writers: [emmettWriter(store)],
        durability: `journal_mode=${journal} (set by the benchmark, see the note), synchronous=${sync} (sqlite3's compiled default)`,
        readAll: (maxPages) =>
          readAllPaged(async (after, batchSize) => {
            const { messages } = await readEmmettSqliteBatch(connection, { after: BigInt(after), batchSize });
            return { count: messages.length, last: Number(messages.at(-1)?.metadata.globalPosition ?? after) };
          }, maxPages),
        async close() {
          connection.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'emmett-postgres',
    label: 'Emmett PostgreSQL',
    engine: 'postgres',
    side: 'emmett',
    writers: PG_WRITERS,
    async open(settings) {
      const database = `emmett_bench_${RUN_ID}`;
      await pgAdmin((c) => c.query(`CREATE DATABASE "${database}"`));
      const url = pgUrlFor(database);
      const stores = [];
      const reader = dumbo({ connectionString: url });
      const close = async () => {
        await Promise.allSettled([...stores.map((s) => s.close()), reader.close()]);
        expectEmmettDrop();
        await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
      };
      try {
        for (let w = 0; w < PG_WRITERS; w++) {
          const store = getPostgreSQLEventStore(url);
          await store.schema.migrate();
          stores.push(store);
        }
      } catch (error) {
        await close();
        throw error;
      }
      return {
        writers: stores.map(emmettWriter),
        durability: pgDurability(settings),
        // Emmett's readMessagesBatch, with its visibility rule (transaction id below the snapshot's xmin), paged
        // by ranges of global position up to the highest one. Not by `after` + batch size: its pages are ordered by
        // (transaction id, position), so with concurrent writers a page can end past rows it has not returned yet.
        // Not up to readLastMessageGlobalPosition: in 0.42.0 it returns the first position (ascending, LIMIT 1).
        readAll: async (maxPages = Infinity) => {
          const { max } = await single(reader.execute.query(sql(`SELECT COALESCE(MAX(global_position), 0) AS max FROM ${messagesTable.name}`)));
          const end = BigInt(max);
          let total = 0;
          for (let from = 1n, page = 0; from <= end && page < maxPages; from += BigInt(READ_PAGE), page++) {
            const { messages } = await readEmmettPgBatch(reader.execute, { from, to: from + BigInt(READ_PAGE) - 1n });
            total += messages.length;
          }
          return total;
        },
        // Emmett reads only rows of transactions older than the oldest one running anywhere on the server (its
        // xid8 rule): wait (up to 15 s) until every appended row is visible that way, so that all stores read alike.
        beforeRead: async (expected) => {
          const visible = sql(`SELECT count(*)::int AS n FROM ${messagesTable.name} WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`);
          for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
            if ((await single(reader.execute.query(visible))).n >= expected) return;
          }
          log('Emmett PostgreSQL: not every row is visible to its readers yet: a transaction is still open elsewhere on the server');
        },
        close,
      };
    },
  },
];
