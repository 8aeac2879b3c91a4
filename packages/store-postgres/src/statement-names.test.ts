/**
 * The store's prepared statements are named after its schema, and PostgreSQL keeps the first 63 bytes of a name: a
 * long schema name (up to 48 characters are allowed) must not make two statements one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createPostgresEventStore } from './postgres-store.js';
import { prepareStatements } from './statements.js';
import { dropAll, dropSchema, newSchema, url } from '../test/helpers.js';

/** The longest schema name the store allows, unique to this run. */
const longest = () => `${newSchema()}_`.padEnd(48, 'x');

describe('statement names', () => {
  it('are distinct within 63 bytes, whatever the schema name', () => {
    for (const schema of ['hotpatch', 'a'.repeat(24), 'b'.repeat(25), 'c'.repeat(48)]) {
      const names = Object.values(prepareStatements(schema, 0)).flatMap((s) => (typeof s === 'object' && 'name' in s ? [s.name] : []));
      expect(names.length).toBeGreaterThan(10);
      expect(Math.max(...names.map((n) => Buffer.byteLength(n)))).toBeLessThanOrEqual(63);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

describe.skipIf(!url)('a store whose schema name is as long as allowed', () => {
  afterAll(dropAll);
  it('appends to new and existing streams, in batches, and saves projections', async () => {
    const schema = longest();
    expect(schema).toHaveLength(48);
    const store = await createPostgresEventStore({ connectionString: url!, schema, max: 1 });
    try {
      const enrolled = (device: string) => ({ type: 'DeviceEnrolled', time: '2026-02-10T17:00:00.000Z', data: { ...eligibleProfile, ring: 'pilot', baseline: 'B-2026-01' } }) as never;
      await store.appendToStream('device/d1', [enrolled('d1')], { expectedVersion: 'no_stream' });
      await store.appendToStream('device/d2', [enrolled('d2')], { expectedVersion: 'no_stream' });
      await store.appendToStream('device/d1', [{ type: 'EligibilityAssessed', time: '2026-02-10T17:00:00.000Z', data: { eligible: true, reasons: [] } } as never], { expectedVersion: 1 });
      await store.batch!(async () => {
        await store.appendToStream('device/d3', [enrolled('d3')], { expectedVersion: 'no_stream' });
        await store.appendToStream('device/d2', [{ type: 'EligibilityAssessed', time: '2026-02-10T17:00:00.000Z', data: { eligible: true, reasons: [] } } as never], { expectedVersion: 1 });
      });
      expect(await store.saveProjection('p', 5, ['a', 'b', 'c'])).toBe(true);
      expect(await store.readProjection('p')).toEqual({ position: 5, parts: ['a', 'b', 'c'] });
      expect((await store.readAll()).map((e) => `${e.position} ${e.stream}@${e.version}`)).toEqual(['1 device/d1@1', '2 device/d2@1', '3 device/d1@2', '4 device/d3@1', '5 device/d2@2']);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});
