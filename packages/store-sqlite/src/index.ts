export { openSqliteEventStore, type SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-store.js';
export { migrate, MIGRATIONS, type Migration } from './migrations.js';
