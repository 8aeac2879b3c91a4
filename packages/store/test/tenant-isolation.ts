/**
 * The isolation property of tenants' views (fast-check, seeded), for any store: three tenants (the default one among
 * them) use the same stream names and the same event ids, in interleaved operations; after each one, every tenant's
 * view reads exactly what a store of its own would (events equal but for positions and hashes, the same refusals
 * with the same messages), so an operation in one tenant never changes another's view, and nothing of another
 * tenant is observable: a stream only another tenant has reads as a missing stream, an id only it holds as no event.
 * Test-only (not built): run by the store's tests and the SQLite store's.
 */
import { expect } from 'vitest';
import fc from 'fast-check';
import { scopeStore, type EventStore, type NewEvent, type RecordedEvent, type ScopedEventStore } from '../src/index.js';

export const TENANTS = ['default', 'acme', 'globex'] as const;
const STREAMS = ['device/d1', 'device/d2', 'ring/pilot', 'rollout/r1'] as const;
export const IDS = Array.from({ length: 8 }, (_, i) => `0193f2a0-0000-7000-8000-${(i + 1).toString(16).padStart(12, '0')}`);
export const time = (minute: number) => new Date(Date.UTC(2026, 0, 5, 8, minute)).toISOString();
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

/** Runs the property over stores `create` opens (each run opens four: the shared one and one per tenant). */
export async function assertTenantIsolation(create: () => EventStore | Promise<EventStore>, options: { readonly numRuns?: number; readonly seed?: number } = {}): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
      const shared = await create();
      const views: ScopedEventStore[] = TENANTS.map((t) => scopeStore(shared, t));
      const alone: EventStore[] = await Promise.all(TENANTS.map(() => create()));
      try {
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
      } finally {
        await Promise.all([shared, ...alone].map((s) => s.close()));
      }
    }),
    { seed: options.seed ?? 2222, numRuns: options.numRuns ?? 60 },
  );
}
