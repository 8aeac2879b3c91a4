/**
 * The service's clock when it is given a speed and no clock: the system clock run `speed` times faster from the
 * start, reading at the start the log's latest time when that is later than now. `hotpatch serve --speed 3600` run
 * for ten minutes wrote events 25 days ahead of the real time; started again on the same log, a clock that began at
 * the real time again would write events dated before them (a reboot done before it was asked for, a ring's soak
 * counted from the future) for as long as the first run lasted.
 */
import { acceleratedClock, type Clock } from '@hotpatch/fleet';
import type { EventStore, RecordedEvent } from '@hotpatch/store';

export async function serviceClock(store: EventStore, speed: number): Promise<Clock> {
  if (speed === 1) return acceleratedClock(1);
  const latest = await lastEvent(store);
  const now = Date.now();
  return acceleratedClock(speed, now, Date.now, Math.max(now, latest !== undefined ? Date.parse(latest.time) : now));
}

/** The log's last event, in O(log n) reads of one event (positions may have gaps: "an event at or after p" is searched). */
export async function lastEvent(store: EventStore): Promise<RecordedEvent | undefined> {
  const from = async (position: number) => (await store.readAll({ fromPosition: position, limit: 1 }))[0];
  let last = await from(1);
  if (last === undefined) return undefined;
  let step = 1;
  for (let next = await from(last.position + step); next !== undefined; next = await from(last.position + step)) {
    last = next;
    step *= 2;
  }
  // No event at or after `end`; `last` is one before it.
  let end = last.position + step;
  while (end - last.position > 1) {
    const middle = Math.floor((last.position + end) / 2);
    const found = await from(middle);
    if (found !== undefined) last = found;
    else end = middle;
  }
  return last;
}
