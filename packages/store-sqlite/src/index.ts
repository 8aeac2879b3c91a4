export { openSqliteEventStore, type SqliteEventStore, type SqliteEventStoreOptions } from './sqlite-store.js';
export { migrate, MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.js';
