/** A store's new connections used at once print nothing: pg warned of a session's SET racing the caller's first query. */
import { afterAll, describe, expect, it } from 'vitest';
import { events } from '@hotpatch/store/conformance';
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
