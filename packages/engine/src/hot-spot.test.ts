/**
 * An in-process hot spot: hundreds of callers of one engine competing for one stream at once. Without turns, each
 * round every loser reads the same version again and all but one lose again: with the default 5 attempts, 495 of
 * 500 assessments ended in ConcurrencyExhaustedError. With them, losers go one after the other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceCommand } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createInMemoryEventStore, type EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { createEngine } from './engine.js';
import { createTurns } from './turns.js';

const clock = () => new Date('2026-02-10T17:00:00.000Z');
const enrol: DeviceCommand = { type: 'EnrolDevice', device: 'hot', profile: eligibleProfile, ring: 'pilot', baseline: 'B1' };
const assess: DeviceCommand = { type: 'AssessEligibility', device: 'hot', latestBaseline: 'B1' };

async function race(store: EventStore): Promise<void> {
  const engine = createEngine({ store, clock });
  await engine.execute(enrol);
  const results = await Promise.allSettled(Array.from({ length: 500 }, () => engine.execute(assess)));
  const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  expect(failed.map((r) => String(r.reason)).slice(0, 3)).toEqual([]);
  const versions = results.map((r) => (r as PromiseFulfilledResult<{ version: number }>).value.version).sort((a, b) => a - b);
  expect(versions).toEqual(Array.from({ length: 500 }, (_, i) => i + 2));
  expect(await store.streamVersion('device/hot')).toBe(501);
}

describe('500 competing commands on one stream, default maxAttempts', () => {
  it('in memory: every one is recorded', async () => {
    await race(createInMemoryEventStore());
  });

  it('on SQLite: every one is recorded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpatch-hot-'));
    const store = openSqliteEventStore({ path: join(dir, 'hot.db'), durability: 'normal' });
    try {
      await race(store);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('turns', () => {
  it('go in order of asking, and a turn held past its limit lets the next one go (never a deadlock)', async () => {
    const turns = createTurns(40);
    const order: string[] = [];
    const first = await turns.take('s');
    const second = turns.take('s').then((end) => (order.push('second'), end));
    const third = turns.take('s').then((end) => (order.push('third'), end));
    const other = await turns.take('other'); // another stream: its own line
    order.push('other');
    first();
    (await second)();
    (await third)();
    other();
    expect(order).toEqual(['other', 'second', 'third']);
    const start = Date.now();
    await turns.take('s'); // never ended
    await turns.take('s');
    expect(Date.now() - start).toBeGreaterThanOrEqual(35);
  });
});
