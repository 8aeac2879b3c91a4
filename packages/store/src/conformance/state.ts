/** The hash chain of each stream, and a stream's state (readState). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeviceContext } from '@hotpatch/core';
import { eventHash, GENESIS_HASH, type EventStore } from '../index.js';
import { events, fresh, type Suite } from './fixtures.js';

export function describeState(suite: Suite): void {
  let store: EventStore;
  beforeEach(() => {
    store = suite.store;
  });

  describe('tamper evidence', () => {
    it('chains every event to the one before it in its stream', async () => {
      const s = fresh('chain');
      await store.appendToStream(s, [events.enrolled(), events.assessed()]);
      await store.appendToStream(s, [{ ...events.staged(), meta: { by: 'x' } }]);
      const read = (await store.readStream(s)).map((e) => suite.sut.asStored?.(e) ?? e);
      let prev = GENESIS_HASH;
      for (const e of read) {
        const { position: _p, hash, ...fields } = e;
        expect(hash).toBe(eventHash(prev, fields));
        prev = hash;
      }
    });
  });

  describe('state', () => {
    it('reads a device’s state from its snapshot and the events after it', async () => {
      const s = fresh('state');
      await store.appendToStream(s, [events.enrolled(), events.assessed(), events.staged('P1')]);
      const read = await store.readState(s);
      expect(read).toMatchObject({ stream: s, version: 3, state: { value: 'staged' } });
      expect(read.snapshotVersion + read.eventsFolded).toBe(3);
      expect((read.state.context as DeviceContext).inFlight?.patch).toBe('P1');
      expect(await store.readState(fresh('nothing'))).toMatchObject({ version: 0, state: { value: 'unenrolled' } });
    });
  });
}
