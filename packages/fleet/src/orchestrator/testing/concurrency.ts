/**
 * What the concurrency tests share: the databases (memory, a SQLite file, a PostgreSQL schema, each openable by a
 * second instance), a fleet enrolled with fixed ids (so that two runs write the same log, byte for byte), seeded
 * rounds of reports and ticks, and the log and projections compared. Test-only: not built nor published.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Random } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createEngine } from '@hotpatch/engine';
import { createInMemoryEventStore, inBatch, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import type { SimulatedClock } from '../../clock.js';
import { catchUpProjection, FleetProjection } from '../../projection.js';
import type { AgentReport, Orchestrator, ReportResult, TickSummary } from '../api.js';
import { HOTPATCH } from './given.js';

export const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;

/** One database, empty: its first store, a way to open it again (another instance's), and its removal. */
export interface Database {
  readonly store: EventStore;
  /** A SQLite database's file: another process can open it. */
  readonly path?: string;
  another(): Promise<EventStore>;
  dispose(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /** Why it is skipped, when it is. */
  readonly skip?: string;
  create(): Promise<Database>;
}

let made = 0;
const suffix = randomBytes(4).toString('hex');
const dir = mkdtemp(join(tmpdir(), 'hotpatch-concurrency-'));

export const BACKENDS: readonly Backend[] = [
  {
    name: 'memory',
    create: async () => {
      const store = createInMemoryEventStore();
      return { store, another: async () => store, dispose: async () => {} };
    },
  },
  {
    name: 'SQLite',
    create: async () => {
      const path = join(await dir, `log-${++made}.db`);
      const store = openSqliteEventStore({ path, durability: 'normal' });
      // One handle per process (another instance in this process shares it; one in another process opens the file):
      // a second handle's synchronous busy wait would hold the event loop while the first one's batch, which it waits
      // for, cannot go on (issue 20, item 5).
      return { store, path, another: async () => store, dispose: () => store.close() };
    },
  },
  {
    name: 'PostgreSQL',
    ...(postgresUrl ? {} : { skip: 'HOTPATCH_TEST_POSTGRES_URL is not set (CI sets it)' }),
    create: async () => {
      const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
      const schema = `hp_conc_${suffix}_${++made}`;
      const open = () => createPostgresEventStore({ connectionString: postgresUrl!, schema, max: 4 });
      const first = await open();
      const opened: EventStore[] = [first];
      return {
        store: first,
        another: async () => {
          const store = await open();
          opened.push(store);
          return store;
        },
        dispose: async () => {
          for (const s of opened.slice(1)) await s.close();
          await first.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await first.close();
        },
      };
    },
  },
];

/** Removes the SQLite files' directory. */
export const removeFiles = async () => rm(await dir, { recursive: true, force: true });

/** A lower-case UUID (v7 shape), the same for the same numbers: fixed ids make two runs write the same log. */
export const fixedId = (kind: number, n: number) => `0193f2a0-${kind.toString(16).padStart(4, '0')}-7000-8000-${n.toString(16).padStart(12, '0')}`;

export const devicesOf = (ring: string, count: number) => Array.from({ length: count }, (_, i) => `${ring}-${String(i).padStart(3, '0')}`);

/** Enrols and assesses every device (in one batch where the store groups writes), each command with a fixed id. */
export async function enrol(store: EventStore, clock: SimulatedClock, rings: Readonly<Record<string, readonly string[]>>): Promise<void> {
  const engine = createEngine({ store, clock: () => clock.now() });
  let n = 0;
  await inBatch(store, async () => {
    for (const [ring, devices] of Object.entries(rings)) {
      for (const device of devices) {
        n++;
        await engine.execute({ id: fixedId(1, n), type: 'EnrolDevice', device, profile: eligibleProfile, ring, baseline: HOTPATCH.baseline });
        await engine.execute({ id: fixedId(2, n), type: 'AssessEligibility', device, latestBaseline: HOTPATCH.baseline });
      }
    }
  });
}

/** A call made of an orchestrator: a report or a tick. */
export type Call = { readonly kind: 'tick' } | { readonly kind: 'report'; readonly report: AgentReport };
export type Outcome = ReportResult | TickSummary;

export const callOn = (o: Orchestrator, call: Call): Promise<Outcome> => (call.kind === 'tick' ? o.tick() : o.report(call.report));

/** Makes the reports of a round, with ids that never repeat across rounds unless a report is sent again. */
export class Reports {
  private n = 0;
  constructor(readonly random: Random) {}
  applied(device: string): AgentReport {
    return this.random.chance(0.1)
      ? { kind: 'apply-failed', id: fixedId(3, ++this.n), device, patch: HOTPATCH.id, reason: 'disk full' }
      : { kind: 'applied', id: fixedId(3, ++this.n), device, patch: HOTPATCH.id };
  }
  health(device: string): AgentReport {
    return { kind: 'health', id: fixedId(3, ++this.n), device, patch: HOTPATCH.id, healthy: this.random.chance(0.92), signal: 'crash rate' };
  }
}

/** Shuffles in place (Fisher–Yates, seeded). */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Calls made together: every one must be answered; the answers, in call order. */
export async function together(calls: ReadonlyArray<() => Promise<Outcome>>): Promise<Outcome[]> {
  const settled = await Promise.allSettled(calls.map((call) => call()));
  const refused = settled.flatMap((s, i) => (s.status === 'rejected' ? [`call ${i}: ${String(s.reason)}`] : []));
  expect(refused, `${refused.length} of ${calls.length} calls rejected`).toEqual([]);
  return settled.map((s) => (s as PromiseFulfilledResult<Outcome>).value);
}

/** The log as recorded, every field (the hash covers time, data and meta). */
export const logOf = async (store: EventStore) => (await store.readAll()).map(({ position, id, stream, version, type, time, data, meta, hash }) => ({ position, id, stream, version, type, time, data, meta, hash }));

/** Checks that nothing is in the log twice (ids, positions); returns the log folded afresh into a projection. */
export async function freshFold(store: EventStore): Promise<FleetProjection> {
  const log = await store.readAll();
  expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
  expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
  const fresh = new FleetProjection();
  await catchUpProjection(fresh, store);
  expect(fresh.position).toBe(log.at(-1)!.position);
  return fresh;
}

/** Each device's state and each rollout's, as a projection holds them. */
export const statesOf = (p: FleetProjection) => ({
  devices: Object.fromEntries([...p.devices.values()].map((d) => [d.id, d.state])),
  rollouts: Object.fromEntries([...p.rollouts.values()].map((r) => [r.id, { state: r.state, outcomes: Object.fromEntries([...r.outcomes].sort()) }])),
});
