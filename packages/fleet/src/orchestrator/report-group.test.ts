/**
 * Reports made at once share units of work (one transaction each on SQLite: the service's reports per second are
 * not one fsync each), write what one unit each would write, and a report that fails inside a group fails alone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@hotpatch/core';
import { DatabaseUnavailableError, type EventStore } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { createOrchestrator } from './shell.js';
import { BACKENDS, devicesOf, enrol, logOf, removeFiles, Reports } from './testing/concurrency.js';
import { HOTPATCH, RELEASED, WHOLE_PILOT } from './testing/given.js';

afterAll(removeFiles);
const policy = WHOLE_PILOT;
const sqlite = BACKENDS.find((b) => b.name === 'SQLite')!;
const PILOT = devicesOf('pilot', 40);

/** A store that counts its batches and can be told to fail appends to one stream. */
function counted(store: EventStore) {
  const counts = { batches: 0 };
  let failing: string | undefined;
  const wrapped: EventStore = Object.create(store);
  wrapped.batch = (fn) => (counts.batches++, store.batch!(fn));
  wrapped.appendToStream = (stream, events, options) => (stream === failing ? Promise.reject(new Error(`disk on fire writing ${stream}`)) : store.appendToStream(stream, events, options));
  return { store: wrapped, counts, failOn: (stream: string | undefined) => (failing = stream) };
}

async function instructed(store: EventStore) {
  const clock = simulatedClock(RELEASED);
  await enrol(store, clock, { pilot: PILOT });
  const o = createOrchestrator({ store, clock, policy });
  await o.planRollout(HOTPATCH);
  await o.tick();
  return o;
}

describe('reports at once', () => {
  it('share transactions, and write the log the same reports one at a time write', async () => {
    const reports = new Reports(seededRandom(5));
    const sent = PILOT.map((d) => reports.applied(d));
    const one = await sqlite.create();
    const many = await sqlite.create();
    try {
      const alone = await instructed(one.store);
      for (const r of sent) await alone.report(r);
      const c = counted(many.store);
      const together = await instructed(c.store);
      const before = c.counts.batches;
      const answers = await Promise.all(sent.map((r) => together.report(r)));
      expect(answers.every((a) => a.status === 'recorded')).toBe(true);
      // 40 reports: the first has a unit of its own (nothing queued yet), the other 39 share one.
      expect(c.counts.batches - before).toBeLessThanOrEqual(3);
      expect(await logOf(c.store)).toEqual(await logOf(one.store));
    } finally {
      await one.dispose();
      await many.dispose();
    }
  });

  it('a report that fails in a group fails alone; the others are recorded once, as they would be alone', async () => {
    const reports = new Reports(seededRandom(6));
    const sent = PILOT.map((d) => reports.applied(d));
    const db = await sqlite.create();
    const reference = await sqlite.create();
    try {
      const c = counted(db.store);
      const o = await instructed(c.store);
      c.failOn(`device/${PILOT[7]}`);
      const answers = await Promise.allSettled(sent.map((r) => o.report(r)));
      expect(answers.filter((a) => a.status === 'rejected').map((a) => String((a as PromiseRejectedResult).reason))).toEqual([`Error: disk on fire writing device/${PILOT[7]}`]);
      expect(answers.filter((a) => a.status === 'fulfilled' && a.value.status === 'recorded')).toHaveLength(PILOT.length - 1);
      // The same reports, one at a time, without the one that failed: the same log.
      const alone = await instructed(reference.store);
      for (const r of sent) if (r.device !== PILOT[7]) await alone.report(r);
      const strip = (log: Awaited<ReturnType<typeof logOf>>) => log.map(({ position: _p, ...e }) => e).sort((a, b) => (a.stream + a.version < b.stream + b.version ? -1 : 1));
      expect(strip(await logOf(c.store))).toEqual(strip(await logOf(reference.store)));
      // And the instance goes on: the failed report, sent again, is recorded.
      c.failOn(undefined);
      expect((await o.report(sent[7]!)).status).toBe('recorded');
    } finally {
      await db.dispose();
      await reference.dispose();
    }
  });

  it('the store away fails every report of the group at once, none tried again alone; the instance goes on after', async () => {
    const reports = new Reports(seededRandom(7));
    const sent = PILOT.map((d) => reports.applied(d));
    const db = await sqlite.create();
    try {
      const c = counted(db.store);
      const o = await instructed(c.store);
      const before = (await db.store.readAll()).length;
      let away = true;
      let refused = 0;
      const batch = c.store.batch!;
      c.store.batch = (fn) => (away ? (refused++, Promise.reject(new DatabaseUnavailableError('fleet.db', 'disk gone'))) : batch(fn));
      const answers = await Promise.allSettled(sent.map((r) => o.report(r)));
      expect(answers.every((a) => a.status === 'rejected' && a.reason instanceof DatabaseUnavailableError)).toBe(true);
      // The first report's unit of its own, then one for the other 39 together: no report tried again alone.
      expect(refused).toBeLessThanOrEqual(3);
      expect((await db.store.readAll()).length).toBe(before);
      away = false;
      expect((await o.report(sent[0]!)).status).toBe('recorded');
    } finally {
      await db.dispose();
    }
  });
});
