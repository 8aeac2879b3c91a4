/**
 * Closing the service while a call is still waiting on the store (a database slow or silent): the call is answered,
 * and its connection, which the client would keep alive, is ended with it, so that the close does not wait for the
 * client to let it go. Before, `hotpatch serve` stopped by SIGTERM during such a call did not exit.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventStore } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildServer } from './server.js';

const SLOW_MS = 500;

describe('closing the service', () => {
  it('ends the connection of a call answered after the close began: the close waits for the call, not for the client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotpatch-closing-'));
    const sqlite = openSqliteEventStore({ path: join(dir, 'hotpatch.db'), durability: 'normal' });
    let slow = false;
    const store = new Proxy(sqlite, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (key === 'readAll') return async (...args: Parameters<EventStore['readAll']>) => (slow && (await new Promise((ok) => setTimeout(ok, SLOW_MS))), target.readAll(...args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = await buildServer({ logger: false, tickIntervalMs: 0, store });
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      slow = true;
      const answer = fetch(`${url}/readyz`).then((r) => r.status);
      await new Promise((ok) => setTimeout(ok, 100));
      const closingAt = Date.now();
      await app.close();
      const took = Date.now() - closingAt;
      expect(await answer).toBe(200);
      // The client (fetch) keeps a connection alive 4 s: a close that waited for it took that long.
      expect(took).toBeLessThan(SLOW_MS + 2_000);
    } finally {
      await app.close();
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
