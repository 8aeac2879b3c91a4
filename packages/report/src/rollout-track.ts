/**
 * A rollout followed event by event as the log is read: its view before and after each event (`rolloutProgress` of
 * its state, the view `history --rollout` prints, and `rolloutChanges` for what changed), kept only where a person
 * reads a change — a ring started, a gate, a pause, a failure, the halt — and the devices its halt found in flight.
 * Times are absolute (ms since the epoch) until the window is known.
 */
import { rolloutProgress, type HotpatchEvent, type RolloutEventData, type RolloutProgress, type RolloutState } from '@hotpatch/core';
import { rolloutChanges, type RolloutView } from '@hotpatch/replay';
import type { HaltedDevice, PauseSpan, RolloutMark } from './model.js';

type Data<K extends keyof RolloutEventData> = RolloutEventData[K];
type Outcome = Exclude<HaltedDevice['outcome'], 'withdrawn'>;

export class RolloutTrack {
  first: number | null = null;
  last: number | null = null;
  readonly marks: RolloutMark[] = [];
  readonly pauses: PauseSpan[] = [];
  readonly setAside = new Map<string, number>();
  readonly gatesPassed = new Map<string, number>();
  /** Each ring's failures after each event that changed them (or started it). */
  readonly failures = new Map<string, Array<[number, number]>>();
  plan: Data<'RolloutPlanned'> | undefined;
  haltAt: number | null = null;
  /** Devices instructed before the halt, by ring; outcomes before and since the halt, by device. */
  readonly instructed = new Map<string, Set<string>>();
  readonly outcomesBefore = new Map<string, Outcome>();
  readonly outcomesSince = new Map<string, Outcome>();
  private before: RolloutProgress | null = null;
  private readonly open: PauseSpan[] = [];

  constructor(readonly id: string) {}

  step(event: HotpatchEvent, t: number, state: RolloutState): void {
    const before = this.before;
    const after = rolloutProgress(this.id, state);
    this.before = after;
    this.first ??= t;
    this.last = t;
    const halted = before?.state === 'halted';
    const mark = (kind: RolloutMark['kind'], ring: string | null, more: Partial<RolloutMark> = {}) =>
      this.marks.push({ t, kind, ring, text: rolloutChanges(before as RolloutView | null, after as RolloutView).join('; '), ...more });
    after.rings.forEach((ring, i) => {
      const was = before?.rings[i];
      if (ring.failed !== (was?.failed ?? 0) || (ring.started !== null && (was?.started ?? null) === null)) {
        const list = this.failures.get(ring.name) ?? [];
        list.push([t, ring.failed]);
        this.failures.set(ring.name, list);
      }
    });
    switch (event.type) {
      case 'RolloutPlanned':
        this.plan = event.data as Data<'RolloutPlanned'>;
        mark('planned', null);
        break;
      case 'RingStarted':
        mark('ringStarted', (event.data as Data<'RingStarted'>).ring);
        break;
      case 'GatePassed': {
        const { ring } = event.data as Data<'GatePassed'>;
        this.gatesPassed.set(ring, t);
        mark('gatePassed', ring);
        break;
      }
      case 'RolloutPaused': {
        const { by, reason } = event.data as Data<'RolloutPaused'>;
        const span: PauseSpan = { scope: 'rollout', ring: null, by, reason, from: t, to: null };
        this.pauses.push(span);
        this.open.push(span);
        mark('paused', null, { by, reason });
        break;
      }
      case 'RolloutResumed': {
        const { by } = event.data as Data<'RolloutResumed'>;
        const i = this.open.findIndex((p) => p.by === by);
        if (i >= 0) {
          const span = this.open.splice(i, 1)[0]!;
          this.pauses[this.pauses.indexOf(span)] = { ...span, to: t };
        }
        mark('resumed', null, { by });
        break;
      }
      case 'DeviceInstructed': {
        const { ring, device } = event.data as Data<'DeviceInstructed'>;
        if (!halted) this.instructed.set(ring, (this.instructed.get(ring) ?? new Set()).add(device));
        break;
      }
      case 'DeviceSucceeded':
        this.outcome((event.data as Data<'DeviceSucceeded'>).device, 'succeeded', halted);
        break;
      case 'DeviceFailed': {
        const { ring, device, reason } = event.data as Data<'DeviceFailed'>;
        this.outcome(device, 'failed', halted);
        mark('failed', ring, { device, reason });
        break;
      }
      case 'DeviceSetAside': {
        const { ring, device, reason } = event.data as Data<'DeviceSetAside'>;
        this.outcome(device, 'setAside', halted);
        this.setAside.set(device, t);
        mark('setAside', ring, { device, reason });
        break;
      }
    }
    // A rollout halts on the event that takes a ring past its budget (a DeviceFailed: an outcome the halt saw), or
    // on RolloutHalted (a deadline).
    if (after.state === 'halted' && !halted) {
      this.haltAt = t;
      mark('halted', after.halt?.ring ?? null, { reason: after.haltReason ?? '' });
    }
    if (after.state === 'completed' && before?.state !== 'completed') mark('completed', null);
  }

  private outcome(device: string, outcome: Outcome, sinceHalt: boolean): void {
    (sinceHalt ? this.outcomesSince : this.outcomesBefore).set(device, outcome);
  }
}
