export { createPostgresEventStore, type PostgresEventStore, type PostgresEventStoreOptions } from './postgres-store.js';
export type { PostgresSubscribeOptions } from './subscribe.js';
export { ConnectionLostError, ConsumerLockLostError, InvalidSchemaNameError, isConnectionError } from './errors.js';
export { migrate, MIGRATIONS, MIGRATION_LOCK_KEY, quoteSchema, SCHEMA_VERSION, type Migration } from './migrations.js';
export type { Lease, LeaseOptions, PostgresLeases } from './leases.js';
export { createLeaseKeeper, INSTANCE_LEASE_PREFIX, planLeases, type LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js';
