/**
 * The service's clock when it is given a speed and no clock: the system clock run `speed` times faster, one clock
 * for every instance over the store and for a service started again on it.
 *
 * - Started again on a log its earlier run wrote: `hotpatch serve --speed 3600` run for ten minutes wrote events 25
 *   days ahead of the real time; a clock that began at the real time again would write events dated before them (a
 *   reboot done before it was asked for, a ring's soak counted from the future) for as long as the first run lasted.
 *   It starts from the log's latest time when that is later than now.
 * - Several instances over one store: each running from its own start, two started seconds apart were hours apart (a
 *   report taken by one dated before the ring the other started, an apply timed out by the one ahead). Each instance
 *   saves its clock's reading (`hotpatch-serve-clock`, a projection of the store: real time, the service's time and
 *   the speed) at each tick; an instance that starts while one is recent (another instance alive) reads the same line.
 */
import { acceleratedClock, type Clock } from '@hotpatch/fleet';
import type { EventStore, RecordedEvent } from '@hotpatch/store';

/** Where the instances' shared reading is kept. */
export const CLOCK_ANCHOR = 'hotpatch-serve-clock';
/** A reading older than this is of no instance alive (each refreshes it at every tick): a new start does not follow it. */
const LIVE_MS = 10_000;

/** A clock of acceleratedClock's: `speed` times real time since `from` (ms since the epoch), reading `at` then. */
export interface ClockLine {
  readonly speed: number;
  readonly from: number;
  readonly at: number;
}

export interface ServiceClock extends Clock {
  /** Saves this clock's reading for the instances that start while this one runs (at each tick). */
  refresh?(): Promise<void>;
  /** What it is, for a copy in another thread (the report thread's). */
  readonly line?: ClockLine;
  /** At speed 1, the log's latest event when it is ahead of the clock by more than a minute (a sped-up run wrote it). */
  readonly behind?: { readonly latest: string; readonly ms: number };
}

export async function serviceClock(store: EventStore, speed: number, realNow: () => number = Date.now): Promise<ServiceClock> {
  const now = realNow();
  if (speed === 1) {
    const latest = await lastEvent(store);
    const ahead = latest !== undefined ? Date.parse(latest.time) - now : 0;
    return { ...acceleratedClock(1, now, realNow), line: { speed, from: now, at: now }, ...(ahead > 60_000 ? { behind: { latest: latest!.time, ms: ahead } } : {}) };
  }
  const anchor = await readAnchor(store, speed);
  let line: ClockLine;
  if (anchor !== undefined && anchor.real <= now && now - anchor.real < LIVE_MS) line = { speed, from: anchor.real, at: anchor.sim };
  else {
    // No instance alive: from the log's latest time, or the last reading saved (a service idle before it stopped
    // writes nothing while its clock runs on), whichever is later, never back.
    const latest = await lastEvent(store);
    line = { speed, from: now, at: Math.max(now, latest !== undefined ? Date.parse(latest.time) : now, anchor?.sim ?? now) };
  }
  const clock = acceleratedClock(speed, line.from, realNow, line.at);
  const refresh = async () => {
    const real = realNow();
    // Keyed by the real time: a save older than the one kept changes nothing (saveProjection never moves back).
    await store.saveProjection(CLOCK_ANCHOR, real, JSON.stringify({ speed, real, sim: clock.now().getTime() }));
  };
  await refresh();
  return { now: () => clock.now(), refresh, line };
}

async function readAnchor(store: EventStore, speed: number): Promise<{ real: number; sim: number } | undefined> {
  const saved = await store.readProjection(CLOCK_ANCHOR);
  if (saved === undefined) return undefined;
  try {
    const anchor = JSON.parse(saved.parts.join('')) as { speed?: unknown; real?: unknown; sim?: unknown };
    if (anchor.speed !== speed || typeof anchor.real !== 'number' || typeof anchor.sim !== 'number' || !Number.isFinite(anchor.real + anchor.sim)) return undefined;
    return { real: anchor.real, sim: anchor.sim };
  } catch {
    return undefined;
  }
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
