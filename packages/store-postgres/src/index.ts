export { createPostgresEventStore, type PostgresEventStore, type PostgresEventStoreOptions, type PostgresSubscribeOptions } from './postgres-store.js';
export { ConnectionLostError, ConsumerLockLostError, InvalidSchemaNameError, isConnectionError } from './errors.js';
export { migrate, MIGRATIONS, MIGRATION_LOCK_KEY, quoteSchema, SCHEMA_VERSION, type Migration } from './migrations.js';
