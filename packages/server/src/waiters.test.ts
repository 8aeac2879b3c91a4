/**
 * A GET of a device's instructions that returns without waiting (an instruction there, no `wait`, an unknown device)
 * drops its waiter: left registered, `changes.waiting()` stayed true with nobody waiting, so the log follower read the
 * log at every pollMs / NOTIFY for ever, and the waiters of one device piled up until its stream was written.
 */
import { describe, expect, it } from 'vitest';
import { PROFILE, startHarness } from './testing/harness.js';

describe('waiters left behind by instruction reads that do not wait', () => {
  it('nobody waits after plain GETs (no wait, and an unknown device)', async () => {
    const h = await startHarness({ followPollMs: 50 });
    try {
      const agent = await h.token('agent', { tenant: 'default', device: 'd1' });
      expect((await h.call('PUT', '/v1/devices/d1', { token: agent, body: { ...PROFILE, ring: 'pilot', baseline: 'B-2026-01' } })).status).toBe(201);
      expect(h.app.hotpatch.changes.waiting()).toBe(false);
      // An answer at once: no instruction, no wait.
      for (let i = 0; i < 5; i++) expect((await h.call('GET', '/v1/devices/d1/instructions', { token: agent })).status).toBe(204);
      expect(h.app.hotpatch.changes.waiting()).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('nobody waits after a GET for an unknown device (404)', async () => {
    const h = await startHarness({ followPollMs: 50 });
    try {
      const agent = await h.token('agent', { tenant: 'default', device: 'ghost' });
      const answer = await h.call('GET', '/v1/devices/ghost/instructions?wait=5', { token: agent });
      expect(answer.status).toBe(404);
      expect(h.app.hotpatch.changes.waiting()).toBe(false);
    } finally {
      await h.close();
    }
  });
});
