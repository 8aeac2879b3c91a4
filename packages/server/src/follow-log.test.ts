/**
 * Appends by another process wake this instance's waiters: two services over one log (two store objects on one
 * SQLite file; two pools on one PostgreSQL schema, as two instances are), an agent long-polling one of them while
 * the other instructs its device. Without the follower the long-poll answered only at the end of its wait (30 s).
 */
import { describe, expect, it } from 'vitest';
import { PROFILE, startHarness, type Harness } from './testing/harness.js';
import { sharedLogCases } from './testing/shared-log.js';
import { readEvents } from './testing/sse-client.js';

const release = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: '2026-01-13T18:00:00.000Z', baseline: 'B-2026-01', liveRevert: true };
const cases = sharedLogCases('follow-log.test.ts', { sqlite: 'SQLite, two store objects on one file (polled)', postgres: 'PostgreSQL, two pools on one schema (NOTIFY)' });

describe.each(cases)('%s', (_name, runs, opener) => {
  it.runIf(runs)('a long-poll on one instance is answered when the other instructs its device; a live tail sees its appends', async () => {
    const open = await opener();
    const a: Harness = await startHarness({ store: await open(), followPollMs: 200 });
    const b: Harness = await startHarness({ store: await open(), followPollMs: 200 });
    try {
      const operator = await b.token('operator');
      const auditor = await b.token('auditor');
      const agent = await b.token('agent', { tenant: 'default', device: 'd1' });
      expect((await b.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);

      const started = Date.now();
      const waiting = a.call('GET', '/v1/devices/d1/instructions?wait=30', { token: agent });
      const tail = readEvents(`${a.url}/v1/events/stream`, auditor, 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await b.call('POST', '/v1/rollouts', { token: operator, body: release })).status).toBe(201);
      await b.app.hotpatch.tickOnce();
      const answered = await waiting;
      expect(answered).toMatchObject({ status: 200, body: { device: 'd1', action: 'apply', patch: 'HP-2026-02' } });
      // Well inside its 30 s wait: woken by the other instance's append, not by the end of the wait.
      expect(Date.now() - started).toBeLessThan(10_000);
      const [first] = await tail;
      expect(first!.data).toMatchObject({ stream: 'rollout/HP-2026-02', type: 'RolloutPlanned' });
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});
