/** PostgreSQL administration for store.bench.mjs: fresh schemas and databases, dropped at the end. */
import pg from 'pg';
import { PG_URL } from './config.mjs';

// Emmett's stores keep pools this benchmark cannot reach; when its database is dropped WITH (FORCE) at the end,
// an idle client of such a pool is terminated and the pool, having no error listener, would end the process before
// the summary. That one error (admin_shutdown, 57P01, during a drop) is expected here and nothing else is swallowed.
let droppingEmmett = false;
/** Says that Emmett's database is being dropped: the one error that may then end its pools is expected. */
export const expectEmmettDrop = () => {
  droppingEmmett = true;
};
process.on('uncaughtException', (error) => {
  if (droppingEmmett && error?.code === '57P01') return;
  console.error(error);
  process.exit(1);
});

export async function pgAdmin(fn) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export const pgUrlFor = (database) => {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

export async function pgSettings() {
  return pgAdmin(async (c) => {
    const show = async (name) => (await c.query(`SHOW ${name}`)).rows[0][name];
    return {
      version: (await c.query('SHOW server_version')).rows[0].server_version,
      synchronous_commit: await show('synchronous_commit'),
      fsync: await show('fsync'),
      wal_sync_method: await show('wal_sync_method'),
    };
  });
}


export const pgDurability = (s) => `synchronous_commit=${s.synchronous_commit}, fsync=${s.fsync}, wal_sync_method=${s.wal_sync_method} (server-wide, same for both)`;
