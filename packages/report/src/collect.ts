/**
 * One pass over a log, as `replay` and `status` read it: every folded event goes into the fleet projection `status`
 * reports from, and each device's state after it (the fold `replay --at` stops) is kept as a step of its band while
 * it falls in the report's window. Feed it from `TimelineFold`'s or `foldFile`'s `onStep`.
 */
import { DEVICE_STATES, deviceIdOf, idOfStream, type HotpatchEvent, type RingEventData } from '@hotpatch/core';
import { FleetProjection } from '@hotpatch/fleet';
import type { StreamState } from '@hotpatch/replay';
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

  constructor(private readonly bounds: CollectWindow = { from: -Infinity, to: Infinity }) {}

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

  /** `onStep` of a fold: the event, with its stream's state after it. */
  readonly onStep = (event: HotpatchEvent, _before: StreamState | undefined, after: StreamState): void => {
    this.projection.apply(event);
    this.events++;
    if (this.first === '') this.first = event.time;
    if (event.time > this.last) this.last = event.time;
    const device = deviceIdOf(event.stream);
    if (device !== undefined) return this.deviceStep(device, event.time, after.state.value);
    const ring = idOfStream('ring', event.stream);
    if (ring !== undefined) this.ringStep(ring, event);
  };

  private deviceStep(device: string, time: string, value: string): void {
    const at = Date.parse(time);
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
