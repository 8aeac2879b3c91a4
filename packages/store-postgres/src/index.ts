export { createPostgresEventStore, type PostgresEventStore, type PostgresEventStoreOptions, type PostgresSubscribeOptions } from './postgres-store.js';
export { ConnectionLostError, ConsumerLockLostError, isConnectionError } from './errors.js';
export { migrate, MIGRATIONS, MIGRATION_LOCK_KEY, quoteSchema, type Migration } from './migrations.js';
