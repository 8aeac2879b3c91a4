/**
 * The orchestrator tells the store which streams a unit is about to append to (`willAppend`): a group of reports its
 * members' devices, a tick's unit the devices it instructs. On PostgreSQL that is one round trip for every head the
 * unit reads instead of one each, one after the other (issue 22's reports per second). A hint: the log is the one the
 * same reports write one at a time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { deviceStream, seededRandom } from '@hotpatch/core';
import type { EventStore } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { createOrchestrator } from './shell.js';
import { BACKENDS, devicesOf, enrol, logOf, removeFiles, Reports } from './testing/concurrency.js';
import { HOTPATCH, RELEASED, WHOLE_PILOT } from './testing/given.js';

afterAll(removeFiles);
const policy = WHOLE_PILOT;
const postgres = BACKENDS.find((b) => b.name === 'PostgreSQL')!;
const PILOT = devicesOf('pilot', 40);

/** The store, with each hint and each append to a device's stream noted in the order made. */
function noted(store: EventStore) {
  const calls: Array<{ readonly hint: readonly string[] } | { readonly append: string }> = [];
  const wrapped: EventStore = Object.create(store);
  wrapped.willAppend = (streams) => (calls.push({ hint: [...streams] }), store.willAppend!(streams));
  wrapped.appendToStream = (stream, events, options) => (stream.startsWith('device/') && calls.push({ append: stream }), store.appendToStream(stream, events, options));
  return { store: wrapped, calls };
}

describe.skipIf(postgres.skip !== undefined)('the orchestrator’s hints to the store (PostgreSQL)', () => {
  it('names a tick’s instructed devices and a group’s reporting devices before their appends; the log is the one-at-a-time log', async () => {
    const reports = new Reports(seededRandom(11));
    const sent = PILOT.map((d) => reports.applied(d));
    const hinted = await postgres.create();
    const reference = await postgres.create();
    try {
      const { store, calls } = noted(hinted.store);
      for (const [db, s] of [
        [hinted, store],
        [reference, reference.store],
      ] as const) {
        const clock = simulatedClock(RELEASED);
        await enrol(s, clock, { pilot: PILOT });
        const o = createOrchestrator({ store: s, clock, policy });
        await o.planRollout(HOTPATCH);
        if (db === hinted) calls.length = 0;
        await o.tick();
        if (db === hinted) {
          // The tick instructs the 40 pilot devices: named before the first of them is written.
          expect(calls[0]).toEqual({ hint: expect.arrayContaining(PILOT.map(deviceStream)) });
          calls.length = 0;
        }
        const answers = await Promise.all(sent.map((r) => o.report(r)));
        expect(answers.every((a) => a.status === 'recorded')).toBe(true);
      }
      // The first report has a unit of its own (nothing queued yet); the others share one, named before they append.
      const firstHint = calls.findIndex((c) => 'hint' in c);
      const hint = calls[firstHint] as { hint: string[] };
      expect(hint.hint.length).toBeGreaterThanOrEqual(PILOT.length - 2);
      const appended = calls.slice(firstHint + 1).flatMap((c) => ('append' in c ? [c.append] : []));
      expect(appended.slice(0, hint.hint.length)).toEqual(hint.hint);
      expect(await logOf(store)).toEqual(await logOf(reference.store));
    } finally {
      await hinted.dispose();
      await reference.dispose();
    }
  });
});
