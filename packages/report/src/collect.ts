/**
 * One pass over a log, as `status` reads it: every event goes into the fleet projection `status` reports from, and
 * each device's state after it there (the device lifecycle's `evolve`, which replay's fold runs too: the state
 * `replay --at` gives at that event's time) is kept as a step of its band while it falls in the report's window.
 * With `until` (a time), a stream's events after it are left out, as `replay --at` leaves them out.
 */
import { DEVICE_STATES, deviceIdOf, idOfStream, type HotpatchEvent, type RingEventData } from '@hotpatch/core';
import { FleetProjection } from '@hotpatch/fleet';
import type { PauseSpan } from './model.js';

const STATE_INDEX = new Map<string, number>(DEVICE_STATES.map((s, i) => [s, i]));

/** A device's band being collected: its state before the window, then `[t, state]` pairs inside it. */
interface BandInProgress {
  before: number;
  readonly steps: number[];
  setAside?: number;
}

export interface CollectWindow {
  /** The window's bounds in ms since the epoch (inclusive; infinite: the log's first or last event). */
  readonly from: number;
  readonly to: number;
  /** Whether the window ends at the log's last event when that comes before `to` (a bound the user did not give). */
  readonly endAtLog?: boolean;
}

export class LogCollector {
  readonly projection = new FleetProjection();
  readonly bands = new Map<string, BandInProgress>();
  /** Ring pauses (whatever the release) seen in the window (times absolute until `pauses()`). */
  private readonly ringPauses: PauseSpan[] = [];
  /** The first and last event times folded. */
  first = '';
  last = '';
  events = 0;
  private readonly openRingPauses = new Map<string, PauseSpan[]>();

  /** Streams that reached an event after `until`: the rest of each is after it too (as replay's fold reads it). */
  private readonly pastUntil = new Set<string>();
  private readonly until: number;

  constructor(
    private readonly bounds: CollectWindow = { from: -Infinity, to: Infinity },
    until?: string,
  ) {
    this.until = until === undefined ? Infinity : Date.parse(until);
  }

  /**
   * The window as offsets are counted: time zero (`base`) is where it opens (the first event folded when it was
   * given no start), in ms since the epoch.
   */
  get window(): { readonly base: number; readonly from: number; readonly to: number } {
    const from = Number.isFinite(this.bounds.from) ? this.bounds.from : Date.parse(this.first || '1970-01-01T00:00:00Z');
    const last = Date.parse(this.last || '1970-01-01T00:00:00Z');
    const to = !Number.isFinite(this.bounds.to) || (this.bounds.endAtLog === true && last < this.bounds.to) ? last : this.bounds.to;
    return { base: from, from, to: Math.max(from, to) };
  }

  /** The next event of the log, in its order. */
  add(event: HotpatchEvent): void {
    if (this.until !== Infinity && (this.pastUntil.has(event.stream) || Date.parse(event.time) > this.until)) {
      this.pastUntil.add(event.stream);
      return;
    }
    this.projection.apply(event);
    this.events++;
    if (this.first === '') this.first = event.time;
    if (event.time > this.last) this.last = event.time;
    const device = deviceIdOf(event.stream);
    if (device !== undefined) {
      const record = this.projection.devices.get(device);
      if (record !== undefined) this.deviceStep(device, event.time, record.state.value);
      return;
    }
    const ring = idOfStream('ring', event.stream);
    if (ring !== undefined) this.ringStep(ring, event);
  }

  private deviceStep(device: string, time: string, value: string): void {
    const at = this.parse(time);
    const state = STATE_INDEX.get(value) ?? 0;
    let band = this.bands.get(device);
    if (band === undefined) {
      band = { before: -1, steps: [] };
      this.bands.set(device, band);
    }
    const { from, to } = this.bounds;
    if (at < from) {
      band.before = state;
      return;
    }
    if (at > to) return;
    const { steps } = band;
    const last = steps.length > 0 ? steps[steps.length - 1] : band.before;
    if (last === state) return;
    // Absolute times while the log is read (the window may open at its first event); offsets when asked for.
    if (steps.length === 0 && band.before >= 0) steps.push(from, band.before);
    steps.push(at, state);
  }

  /** Events come in runs of one time (a tick's instructions, a day's reports): parsed once per run. */
  private lastTime = '';
  private lastAt = 0;
  private parse(time: string): number {
    if (time !== this.lastTime) {
      this.lastTime = time;
      this.lastAt = Date.parse(time);
    }
    return this.lastAt;
  }

  private ringStep(ring: string, event: HotpatchEvent): void {
    const at = Date.parse(event.time);
    if (at > this.bounds.to) return;
    const t = Math.max(at, this.bounds.from);
    const open = this.openRingPauses.get(ring) ?? [];
    if (event.type === 'RingPaused') {
      const data = event.data as RingEventData['RingPaused'];
      const span = { scope: 'ring' as const, ring, by: data.by, reason: data.reason, from: t, to: null };
      open.push(span);
      this.openRingPauses.set(ring, open);
      this.ringPauses.push(span);
    } else if (event.type === 'RingResumed') {
      const data = event.data as RingEventData['RingResumed'];
      const i = open.findIndex((p) => p.by === data.by);
      if (i >= 0) {
        const span = open.splice(i, 1)[0]!;
        const index = this.ringPauses.indexOf(span);
        // A pause that ended before the window opened is not on its axis.
        if (at < this.bounds.from) this.ringPauses.splice(index, 1);
        else this.ringPauses[index] = { ...span, to: t };
      }
    }
  }

  /** A device's band in the window, as offsets: its steps (its state when the window opens first, if it had one). */
  band(device: string): number[] {
    const band = this.bands.get(device);
    const { base, from } = this.window;
    if (band === undefined) return [];
    if (band.steps.length === 0) return band.before >= 0 ? [from - base, band.before] : [];
    return band.steps.map((v, i) => (i % 2 === 0 ? v - base : v));
  }

  /** The pauses of rings (whatever the release) in the window, as offsets. */
  ringPausesInWindow(): PauseSpan[] {
    const { base } = this.window;
    return this.ringPauses.map((p) => ({ ...p, from: p.from - base, to: p.to === null ? null : p.to - base }));
  }
}
