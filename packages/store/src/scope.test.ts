/**
 * Tenants' views of one store against separate stores (fast-check, seeded): three tenants (the default one among
 * them) use the same stream names and the same event ids, in interleaved operations; after each one, every
 * tenant's view reads exactly what a store of its own would (events equal but for positions and hashes, the same
 * refusals with the same messages), so an operation in one tenant never changes another's view, and nothing of
 * another tenant is observable: a stream only another tenant has reads as a missing stream, an id only another
 * tenant holds as no event.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createInMemoryEventStore, createPackedInMemoryEventStore } from './memory-store.js';
import { scopeStore, type ScopedEventStore } from './scope.js';
import { OUTSIDE_THE_TENANT } from './scope-errors.js';
import { EventIdTakenError, ReservedNameError } from './errors.js';
import type { EventStore, NewEvent, RecordedEvent } from './types.js';
import { InvalidTenantError } from '@hotpatch/core';

const TENANTS = ['default', 'acme', 'globex'] as const;
const STREAMS = ['device/d1', 'device/d2', 'ring/pilot', 'rollout/r1'] as const;
const IDS = Array.from({ length: 8 }, (_, i) => `0193f2a0-0000-7000-8000-${(i + 1).toString(16).padStart(12, '0')}`);
const time = (minute: number) => new Date(Date.UTC(2026, 0, 5, 8, minute)).toISOString();
const profile = { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' };

const newEvent: fc.Arbitrary<NewEvent> = fc
  .record({
    id: fc.constantFrom(...IDS),
    minute: fc.nat(59),
    body: fc.constantFrom(
      { type: 'DeviceEnrolled', data: profile },
      { type: 'EligibilityAssessed', data: { eligible: true, reasons: [] } },
      { type: 'EligibilityAssessed', data: { eligible: false, reasons: ['vbs: off'] } },
      { type: 'PatchStaged', data: { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true } },
      { type: 'RingPaused', data: { by: 'tenant', reason: 'freeze' } },
      { type: 'RingResumed', data: { by: 'tenant' } },
      { type: 'RolloutPaused', data: { by: 'service', reason: 'x' } },
    ),
  })
  // Every event with an id from one small pool, the same for every tenant (an id the store made would differ between stores).
  .map(({ id, minute, body }) => ({ id, time: time(minute), ...body }));

type Operation =
  | { readonly tenant: number; readonly op: 'append'; readonly stream: string; readonly events: NewEvent[]; readonly expected: 'any' | 'no_stream' | number }
  | { readonly tenant: number; readonly op: 'project'; readonly name: string; readonly position: number }
  | { readonly tenant: number; readonly op: 'checkpoint'; readonly name: string; readonly expected: number; readonly next: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ tenant: fc.nat(2), op: fc.constant('append' as const), stream: fc.constantFrom(...STREAMS), events: fc.array(newEvent, { minLength: 1, maxLength: 3 }), expected: fc.oneof(fc.constant('any' as const), fc.constant('no_stream' as const), fc.nat(4)) }) },
  { weight: 1, arbitrary: fc.record({ tenant: fc.nat(2), op: fc.constant('project' as const), name: fc.constantFrom('fleet', 'other'), position: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ tenant: fc.nat(2), op: fc.constant('checkpoint' as const), name: fc.constantFrom('orchestrator', 'mail'), expected: fc.nat(3), next: fc.nat(9) }) },
);

/** What an event is to its tenant: everything but where the log put it (position) and what it chained it to (hash). */
const content = ({ position: _p, hash: _h, ...rest }: RecordedEvent) => rest;
const outcome = async (call: () => Promise<unknown>) => {
  try {
    const value = await call();
    if (value !== null && typeof value === 'object' && 'events' in value) {
      const { positions: _p, events, ...rest } = value as { positions: unknown; events: RecordedEvent[] };
      return { ok: { ...rest, events: events.map(content) } };
    }
    return { ok: value };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
};

/** Everything a tenant can read of its fleet. */
async function observe(store: EventStore) {
  const seen: Record<string, unknown> = { all: (await store.readAll()).map(content) };
  for (const stream of STREAMS) {
    seen[stream] = {
      events: (await store.readStream(stream)).map(content),
      version: await store.streamVersion(stream),
      state: (await store.readState(stream)).state,
      byId: await Promise.all(IDS.map(async (id) => ((e) => e && content(e))(await store.readEvent(stream, id)))),
    };
  }
  for (const name of ['fleet', 'other']) seen[`projection ${name}`] = await store.readProjection(name);
  for (const name of ['orchestrator', 'mail']) seen[`checkpoint ${name}`] = await store.readCheckpoint(name);
  return seen;
}

function apply(store: EventStore, o: Operation) {
  if (o.op === 'append') return outcome(() => store.appendToStream(o.stream, o.events, { expectedVersion: o.expected }));
  if (o.op === 'project') return outcome(() => store.saveProjection(o.name, o.position, `saved at ${o.position}`));
  return outcome(() => store.saveCheckpoint(o.name, o.expected, o.next));
}

describe.each([
  ['in memory', createInMemoryEventStore],
  ['packed in memory', createPackedInMemoryEventStore],
] as const)('tenants of one store (%s)', (_, create) => {
  it('each tenant’s view reads what a store of its own would, whatever the others do (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
        const shared = create();
        const views: ScopedEventStore[] = TENANTS.map((t) => scopeStore(shared, t));
        const alone: EventStore[] = TENANTS.map(() => create());
        for (const o of operations) {
          const before = await Promise.all(views.map(observe));
          expect(await apply(views[o.tenant]!, o)).toEqual(await apply(alone[o.tenant]!, o));
          for (let t = 0; t < TENANTS.length; t++) {
            const now = await observe(views[t]!);
            expect(now, TENANTS[t]).toEqual(await observe(alone[t]!));
            if (t !== o.tenant) expect(now, `${TENANTS[t]} after an operation of ${TENANTS[o.tenant]}`).toEqual(before[t]);
          }
        }
        // The log holds every tenant's events once, each hash chained over what the log holds.
        const log = await shared.readAll();
        expect(log.length).toBe((await Promise.all(alone.map((s) => s.readAll()))).reduce((n, events) => n + events.length, 0));
        for (const view of views) for (const e of await view.readAll()) expect(log.find((l) => l.position === e.position)).toEqual(view.storedEvent(e));
      }),
      { seed: 2222, numRuns: 60 },
    );
  });
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
