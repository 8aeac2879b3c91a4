/**
 * A GET of a device's instructions that returns without waiting (an instruction there, no `wait`, an unknown device)
 * drops its waiter: left registered, `changes.waiting()` stayed true with nobody waiting, so the log follower read the
 * log at every pollMs / NOTIFY for ever, and the waiters of one device piled up until its stream was written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { PROFILE, startHarness } from './testing/harness.js';

describe('waiters left behind by reads that end without waiting', () => {
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

  it('nobody waits after a live tail whose read of the log failed', async () => {
    let failing = false;
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-waiters-'));
    const sqlite = openSqliteEventStore({ path: join(dir, 'hotpatch.db'), durability: 'normal' });
    // A store whose readAll fails on demand (the database gone between two reads).
    const store = new Proxy(sqlite, {
      get(target, key, receiver) {
        if (key === 'readAll') return (...args: Parameters<typeof target.readAll>) => (failing ? Promise.reject(new Error('the log cannot be read')) : target.readAll(...args));
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const h = await startHarness({ store, followPollMs: 50, tail: { heartbeatMs: 50, drainTimeoutMs: 300 } });
    try {
      const auditor = await h.token('auditor');
      const response = await fetch(`${h.url}/v1/events/stream?after=0`, { headers: { authorization: `Bearer ${auditor}` } });
      const reader = response.body!.getReader();
      await reader.read(); // the tail's first comment: it has begun
      failing = true;
      // The tail ends when its read fails (its connection closed by the server).
      while (!(await reader.read().catch(() => ({ done: true }))).done);
      expect(h.app.hotpatch.changes.waiting()).toBe(false);
    } finally {
      failing = false;
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
