/**
 * A store's session settings: its new connections used at once print nothing (pg warned of a session's SET racing
 * the caller's first query), and a timeout PostgreSQL cannot take is refused by name before any connection.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { events } from '@hotpatch/store/conformance';
import { InvalidStoreOptionsError } from '@hotpatch/store';
import { createPostgresEventStore } from './postgres-store.js';
import { dropAll, newSchema, url } from '../test/helpers.js';

describe.skipIf(!url)('PostgreSQL store connections', () => {
  afterAll(dropAll);

  it('a writer and a reader, each with new connections used at once, emit no warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const schema = newSchema();
    const writer = await createPostgresEventStore({ connectionString: url!, schema, max: 8, busyTimeoutMs: 250 });
    const reader = await createPostgresEventStore({ connectionString: url!, schema, max: 8, readonly: true });
    try {
      await Promise.all(Array.from({ length: 8 }, (_, i) => writer.appendToStream(`device/d${i}`, [events.enrolled()])));
      await Promise.all(Array.from({ length: 24 }, (_, i) => reader.readStream(`device/d${i % 8}`)));
      await new Promise((resolve) => setImmediate(resolve)); // a warning is emitted on the next turn
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await Promise.all([writer.close(), reader.close()]);
    }
  });
});

describe('PostgreSQL store options', () => {
  it('refuses a timeout PostgreSQL cannot take, naming the option, before connecting', async () => {
    // Port 9 (discard): nothing listens there, so a store that tried to connect would fail otherwise.
    const connectionString = 'postgres://postgres@127.0.0.1:9/none';
    for (const [option, value] of [['busyTimeoutMs', 3e9], ['busyTimeoutMs', Infinity], ['busyTimeoutMs', -1], ['busyTimeoutMs', 1.5], ['idleInTransactionTimeoutMs', 2 ** 31], ['queryTimeoutMs', -5], ['connectTimeoutMs', 0.5]] as const) {
      const refused = await createPostgresEventStore({ connectionString, [option]: value }).catch((error: unknown) => error);
      expect(refused, `${option} ${value}`).toBeInstanceOf(InvalidStoreOptionsError);
      expect((refused as Error).message).toBe(`PostgreSQL event store: ${option} must be a whole number of ms from 0 to 2147483647 (0: no limit), got number ${value}`);
    }
  });
});
