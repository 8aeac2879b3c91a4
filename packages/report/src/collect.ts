/**
 * One pass over a log, as `status` reads it: every event goes into the fleet projection `status` reports from; each
 * device's state after each of its events there (the device lifecycle's `evolve`, which replay's fold runs too: the
 * state `replay --at` gives at that event's time) is kept as a step of its band; the rollout asked about is followed
 * event by event (rollout-track.ts). The window is set once the log is read (a rollout's spans its events), so the
 * bands are kept whole until then: a few state changes a device a month.
 * With `until` (a time), a stream's events after it are left out, as `replay --at` leaves them out.
 */
import { DEVICE_STATES, deviceIdOf, idOfStream, rolloutStream, type HotpatchEvent, type RingEventData } from '@hotpatch/core';
import { FleetProjection } from '@hotpatch/fleet';
import type { PauseSpan } from './model.js';
import { RolloutTrack } from './rollout-track.js';
import { stateAt } from './page/time.js';

const STATE_INDEX = new Map<string, number>(DEVICE_STATES.map((s, i) => [s, i]));

export interface Window {
  /** Time zero of the offsets (where the window opens) and its bounds, in ms since the epoch (inclusive). */
  readonly base: number;
  readonly from: number;
  readonly to: number;
}

export class LogCollector {
  readonly projection = new FleetProjection();
  /** Each device's steps, absolute: `[t0, s0, t1, s1, …]`, one pair per change of state. */
  private readonly bands = new Map<string, number[]>();
  /** Ring pauses (whatever the release), absolute times; `to` null while paused. */
  private readonly ringPauses: PauseSpan[] = [];
  private readonly openRingPauses = new Map<string, PauseSpan[]>();
  /** The rollout asked about, followed event by event. */
  readonly track: RolloutTrack | undefined;
  private readonly trackStream: string | undefined;
  /** The first and last event times read. */
  first = '';
  last = '';
  events = 0;
  /** Streams that reached an event after `until`: the rest of each is after it too (as replay's fold reads it). */
  private readonly pastUntil = new Set<string>();
  private readonly until: number;
  private current: Window = { base: 0, from: 0, to: 0 };

  constructor(options: { readonly until?: string; readonly rollout?: string } = {}) {
    this.until = options.until === undefined ? Infinity : Date.parse(options.until);
    if (options.rollout !== undefined) {
      this.track = new RolloutTrack(options.rollout);
      this.trackStream = rolloutStream(options.rollout);
    }
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
      if (record !== undefined) this.deviceStep(device, this.parse(event.time), record.state.value);
      return;
    }
    if (event.stream === this.trackStream) {
      const record = this.projection.rollouts.get(this.track!.id);
      if (record !== undefined) this.track!.step(event, this.parse(event.time), record.state);
      return;
    }
    const ring = idOfStream('ring', event.stream);
    if (ring !== undefined) this.ringStep(ring, event);
  }

  private deviceStep(device: string, at: number, value: string): void {
    const state = STATE_INDEX.get(value) ?? 0;
    let steps = this.bands.get(device);
    if (steps === undefined) {
      steps = [];
      this.bands.set(device, steps);
    }
    if (steps.length > 0 && steps[steps.length - 1] === state) return;
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
    const at = this.parse(event.time);
    const open = this.openRingPauses.get(ring) ?? [];
    if (event.type === 'RingPaused') {
      const data = event.data as RingEventData['RingPaused'];
      const span = { scope: 'ring' as const, ring, by: data.by, reason: data.reason, from: at, to: null };
      open.push(span);
      this.openRingPauses.set(ring, open);
      this.ringPauses.push(span);
    } else if (event.type === 'RingResumed') {
      const data = event.data as RingEventData['RingResumed'];
      const i = open.findIndex((p) => p.by === data.by);
      if (i >= 0) {
        const span = open.splice(i, 1)[0]!;
        this.ringPauses[this.ringPauses.indexOf(span)] = { ...span, to: at };
      }
    }
  }

  /** Sets the window the bands and pauses are given in (once the log is read). */
  setWindow(from: number, to: number): Window {
    this.current = { base: from, from, to: Math.max(from, to) };
    return this.current;
  }

  get window(): Window {
    return this.current;
  }

  /**
   * A device's band in the window, as offsets: its state when the window opens (if it had one), then its steps up to
   * the window's end.
   */
  band(device: string): number[] {
    const steps = this.bands.get(device);
    if (steps === undefined) return [];
    const { base, from, to } = this.current;
    const out: number[] = [];
    let before = -1;
    for (let i = 0; i < steps.length; i += 2) {
      const t = steps[i]!;
      if (t < from) before = steps[i + 1]!;
      else if (t <= to) {
        if (out.length === 0 && before >= 0 && t > from) out.push(0, before);
        out.push(t - base, steps[i + 1]!);
      } else break;
    }
    if (out.length === 0 && before >= 0) out.push(0, before);
    return out;
  }

  /** A device's state at an absolute time, whatever the window (`replay --at`): its index in DEVICE_STATES, or -1 before its first event. */
  stateAt(device: string, at: number): number {
    return stateAt(this.bands.get(device) ?? [], at);
  }

  /** The pauses of rings (whatever the release) that overlap the window, as offsets (clamped to it). */
  ringPausesInWindow(): PauseSpan[] {
    const { base, from, to } = this.current;
    return this.ringPauses
      .filter((p) => p.from <= to && (p.to === null || p.to >= from))
      .map((p) => ({ ...p, from: Math.max(p.from, from) - base, to: p.to === null || p.to > to ? null : p.to - base }));
  }
}
