/** Tenants' views of one SQLite store against stores of their own: the isolation property (store/test/tenant-isolation.ts). */
import { it } from 'vitest';
import { assertTenantIsolation } from '../../store/test/tenant-isolation.js';
import { openSqliteEventStore } from './sqlite-store.js';

it('each tenant’s view of one SQLite store reads what a store of its own would, whatever the others do (fast-check)', () => assertTenantIsolation(() => openSqliteEventStore({ path: ':memory:' }), {}), 120_000);
