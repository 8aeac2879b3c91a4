/**
 * Two orchestrators in one process, each over its own SQLite store object on one file (two instances of a service
 * in one process, say). A tick of one holds the file's write lock across awaits (its unit of work is one batch):
 * the other's tick used to wait for it in SQLite's synchronous busy wait, freezing the event loop the first one
 * needed to commit, and failed after the busy timeout. Now they wait for each other without blocking.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { eligibleProfile } from '@hotpatch/core/testing';
import { createEngine } from '@hotpatch/engine';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { simulatedClock } from '../clock.js';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

it('two orchestrators on two handles of one SQLite file tick and take reports at once: nothing fails, nothing twice', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotpatch-two-handles-'));
  const path = join(dir, 'fleet.db');
  const a = openSqliteEventStore({ path, busyTimeoutMs: 3_000, durability: 'normal' });
  const b = openSqliteEventStore({ path, busyTimeoutMs: 3_000, durability: 'normal' });
  try {
    const clock = simulatedClock(RELEASED);
    const engine = createEngine({ store: a, clock: () => clock.now() });
    await a.batch(async () => {
      for (let i = 0; i < 40; i++) {
        const device = `d${i}`;
        await engine.execute({ type: 'EnrolDevice', device, profile: eligibleProfile, ring: i < 8 ? 'pilot' : 'broad', baseline: HOTPATCH.baseline });
        await engine.execute({ type: 'AssessEligibility', device, latestBaseline: HOTPATCH.baseline });
      }
    });
    const oa = createOrchestrator({ store: a, clock, policy: POLICY });
    const ob = createOrchestrator({ store: b, clock, policy: POLICY });
    await oa.planRollout(HOTPATCH);
    await ob.planRollout(HOTPATCH);
    const started = Date.now();
    for (let round = 0; round < 6; round++) {
      await Promise.all([oa.tick(), ob.tick(), oa.tick(), ob.tick()]);
      await oa.sync();
      const applying = [...oa.projection.devices.values()].filter((d) => d.state.value === 'applying').map((d) => d.id);
      // Each report sent to both instances at once (an agent retrying on the other): recorded once.
      await Promise.all(applying.flatMap((device, i) => [oa, ob].map((o) => o.report({ id: `0193f2a0-0000-7000-8000-${(round * 100 + i).toString(16).padStart(12, '0')}`, device, kind: 'applied', patch: HOTPATCH.id }))));
      clock.advance(30 * 3600);
    }
    expect(Date.now() - started).toBeLessThan(20_000);
    const log = await a.readAll();
    expect(new Set(log.map((e) => e.id)).size).toBe(log.length);
    expect(log.filter((e) => e.type === 'PatchApplied').length).toBeGreaterThan(0);
  } finally {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  }
});
