/**
 * Tenants' views of one store: against separate stores, the isolation property (test/tenant-isolation.ts, also run
 * on SQLite by its store's tests); and what is stored, what an error says, what a view refuses.
 */
import { describe, expect, it } from 'vitest';
import { createInMemoryEventStore, createPackedInMemoryEventStore } from './memory-store.js';
import { scopeStore } from './scope.js';
import { OUTSIDE_THE_TENANT } from './scope-errors.js';
import { EventIdTakenError, ReservedNameError } from './errors.js';
import { InvalidTenantError } from '@hotpatch/core';
import { assertTenantIsolation, IDS, time } from '../test/tenant-isolation.js';

describe.each([
  ['in memory', createInMemoryEventStore],
  ['packed in memory', createPackedInMemoryEventStore],
] as const)('tenants of one store (%s)', (_, create) => {
  it('each tenant’s view reads what a store of its own would, whatever the others do (fast-check)', () => assertTenantIsolation(create));
});

describe('a tenant’s view', () => {
  it('stores a tenant’s streams under its prefix and its ids masked, and the default tenant’s as they are', async () => {
    const shared = createInMemoryEventStore();
    const event = { id: IDS[0]!, type: 'RingPaused', time: time(0), data: { by: 'tenant', reason: 'freeze' } };
    await scopeStore(shared, 'acme').appendToStream('ring/pilot', [event]);
    await scopeStore(shared, undefined).appendToStream('ring/pilot', [event]);
    const [a, d] = await shared.readAll();
    expect(a).toMatchObject({ stream: 'tenant/acme/ring/pilot', version: 1 });
    expect(a!.id).not.toBe(IDS[0]);
    // The time (first 48 bits), the version and the variant digits are kept.
    expect([a!.id.slice(0, 15), a!.id[19]]).toEqual([IDS[0]!.slice(0, 15), IDS[0]![19]]);
    expect(d).toMatchObject({ stream: 'ring/pilot', id: IDS[0] });
  });

  it('an id held outside the tenant is refused without naming where', async () => {
    const shared = createInMemoryEventStore();
    const acme = scopeStore(shared, 'acme');
    const globex = scopeStore(shared, 'globex');
    const event = { id: IDS[0]!, type: 'RingPaused', time: time(0), data: { by: 'tenant', reason: 'freeze' } };
    await acme.appendToStream('ring/pilot', [event]);
    // Globex, knowing acme's mask, crafts the id acme's is stored as.
    const stored = (await shared.readAll())[0]!.id;
    const crafted = globex.localEvent({ ...(await shared.readAll())[0]!, stream: 'tenant/globex/ring/pilot' })!.id;
    expect(globex.storedEvent({ ...(await acme.readAll())[0]!, id: crafted }).id).toBe(stored);
    const error = await globex.appendToStream('ring/pilot', [{ ...event, id: crafted }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventIdTakenError);
    expect(error).toMatchObject({ stream: 'ring/pilot', id: crafted, holder: { stream: OUTSIDE_THE_TENANT } });
    expect((error as Error).message).not.toContain('acme');
  });

  it('the default tenant is not told which named tenant’s stream holds an id either', async () => {
    const shared = createInMemoryEventStore();
    const event = { id: IDS[0]!, type: 'RingPaused', time: time(0), data: { by: 'tenant', reason: 'freeze' } };
    await scopeStore(shared, 'acme').appendToStream('ring/pilot', [event]);
    const stored = (await shared.readAll())[0]!.id;
    const error = await scopeStore(shared, 'default').appendToStream('ring/pilot', [{ ...event, id: stored }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EVENT_ID_TAKEN', stream: 'ring/pilot', id: stored, holder: { stream: OUTSIDE_THE_TENANT } });
    expect((error as Error).message).not.toContain('acme');
  });

  it('masks ids with a key, where one is given: other stored ids, the same ids read back', async () => {
    const event = { id: IDS[1]!, type: 'RingPaused', time: time(0), data: { by: 'tenant', reason: 'freeze' } };
    const stored = async (options: { idKey?: string }) => {
      const shared = createInMemoryEventStore();
      const view = scopeStore(shared, 'acme', options);
      await view.appendToStream('ring/pilot', [event]);
      expect((await view.readAll()).map((e) => e.id)).toEqual([IDS[1]]);
      expect(await view.readEvent('ring/pilot', IDS[1]!)).toMatchObject({ id: IDS[1] });
      return (await shared.readAll())[0]!.id;
    };
    const [plain, keyed, other] = [await stored({}), await stored({ idKey: 'secret' }), await stored({ idKey: 'another secret' })];
    expect(new Set([plain, keyed, other, IDS[1]]).size).toBe(4);
  });

  it('refuses a tenant that breaks the rule, another tenant’s name given as a local one, and the named tenants’ names in the default view', async () => {
    const shared = createInMemoryEventStore();
    expect(() => scopeStore(shared, 'a/b')).toThrow(InvalidTenantError);
    const event = { type: 'RingPaused', time: time(0), data: { by: 'tenant', reason: 'freeze' } };
    await scopeStore(shared, 'acme').appendToStream('ring/pilot', [event]);
    const other = scopeStore(shared, undefined);
    await expect(other.appendToStream('tenant/acme/ring/pilot', [event])).rejects.toThrow(/named without a tenant's prefix, got "tenant\/acme\/ring\/pilot"/);
    expect(await other.readStream('tenant/acme/ring/pilot')).toEqual([]);
    expect(await other.streamVersion('tenant/acme/ring/pilot')).toBe(0);
    expect(await other.readState('tenant/acme/ring/pilot')).toMatchObject({ version: 0 });
    await expect(other.saveCheckpoint('tenant/acme/x', 0, 1)).rejects.toThrow(ReservedNameError);
    await expect(other.readProjection('tenant/acme/x')).rejects.toThrow(ReservedNameError);
    expect(await scopeStore(shared, 'globex').readStream('tenant/acme/ring/pilot')).toEqual([]);
  });
});
