/**
 * Given/when/then for the orchestrator's decisions (as core/src/decide.test.ts does for the device's): events of the
 * log in, a decision at a time, its intents out, each shown as `stream@version: EventType, …` (the version it was
 * decided on). Test-only: not built nor published.
 */
import { expect } from 'vitest';
import { deviceStream, ringStream, rolloutStream, type DeviceProfile, type InstructionAction, type RingPolicy } from '@hotpatch/core';
import { eligibleProfile } from '@hotpatch/core/testing';
import type { FleetPolicy } from '../../policy.js';
import { FleetProjection } from '../../projection.js';
import type { AgentReport } from '../api.js';
import { decideCatchUp } from '../decide-catch-up.js';
import { decideReport } from '../decide-report.js';
import { decideTick, type TickPace } from '../decide-tick.js';
import type { Answer, Decided, DecisionInput, Step } from '../decision.js';
import { emptyMemory, type Memory } from '../memory.js';
import { cumulativeUpdateOf, Releases, type ReleaseToRoll } from '../release.js';

export const RELEASED = '2026-02-10T17:00:00.000Z';
export const HOTPATCH: ReleaseToRoll = { id: 'HP-2026-02', kind: 'hotpatch', releasedAt: RELEASED, baseline: 'B-2026-01', liveRevert: true };
export const POLICY: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { count: 1 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 0.5, minSoakHours: 24 }, deadlineDays: 5 },
    { name: 'broad', deferralDays: 3, budget: { percent: 25 }, gate: { minVerifiedShare: 0.75, maxFailureRate: 0.25, minSoakHours: 24 }, deadlineDays: 14 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 48,
};
/** POLICY's pilot ring alone, the whole ring at once (every pilot device instructed at its first tick). */
export const WHOLE_PILOT: FleetPolicy = { ...POLICY, rings: [{ ...POLICY.rings[0]!, budget: { percent: 100 } }] };

interface Event {
  readonly stream: string;
  readonly type: string;
  readonly data: unknown;
}
/** Sets the time of the events after it. */
interface At {
  readonly at: string;
}
export const at = (time: string): At => ({ at: time });
const event = (stream: string, type: string, data: unknown): Event => ({ stream, type, data });

/** A device's events. */
export const device = (id: string) => {
  const s = deviceStream(id);
  return {
    enrolled: (ring: string, baseline = HOTPATCH.baseline, profile: DeviceProfile = eligibleProfile) => event(s, 'DeviceEnrolled', { ...profile, ring, baseline }),
    assessed: (eligible = true) => event(s, 'EligibilityAssessed', { eligible, reasons: eligible ? [] : ['vbs: off'] }),
    staged: (release = HOTPATCH) => event(s, 'PatchStaged', { patch: release.id, baseline: release.baseline, requires: release.requires ?? [], liveRevert: release.liveRevert }),
    applying: (patch = HOTPATCH.id) => event(s, 'PatchApplyStarted', { patch }),
    applied: (patch = HOTPATCH.id) => event(s, 'PatchApplied', { patch }),
    verified: (patch = HOTPATCH.id) => event(s, 'PatchVerified', { patch }),
    rebootRequired: (reason: string, baseline?: string) => event(s, 'RebootRequired', { reason, ...(baseline !== undefined ? { baseline } : {}) }),
    applyFailed: (patch = HOTPATCH.id) => [event(s, 'PatchApplyFailed', { patch, reason: 'disk full' }), event(s, 'RollbackStarted', { patch, reason: 'apply failed: disk full' }), event(s, 'PatchRolledBack', { patch })],
  };
};

/** A rollout's events. */
export const rollout = (release: ReleaseToRoll = HOTPATCH) => {
  const s = rolloutStream(release.id);
  return {
    planned: (rings: readonly RingPolicy[] = POLICY.rings) =>
      event(s, 'RolloutPlanned', {
        release: release.id,
        releaseKind: release.kind,
        releasedAt: release.releasedAt,
        liveRevert: release.liveRevert,
        outOfBand: false,
        rings,
        baseline: release.baseline,
        ...(release.kind === 'hotpatch' ? { requires: release.requires ?? [], cumulativeUpdate: cumulativeUpdateOf(release) } : { rebootReason: 'baseline' }),
      }),
    ringStarted: (ring: string, when: string, devices: number) => event(s, 'RingStarted', { ring, at: when, devices }),
    instructed: (ring: string, id: string, action: InstructionAction = 'hotpatch') => event(s, 'DeviceInstructed', { ring, device: id, action }),
    succeeded: (ring: string, id: string) => event(s, 'DeviceSucceeded', { ring, device: id }),
    failed: (ring: string, id: string) => event(s, 'DeviceFailed', { ring, device: id, reason: 'apply-failed' }),
    setAside: (ring: string, id: string) => event(s, 'DeviceSetAside', { ring, device: id, reason: 'agent silent for 48 h', instructed: true }),
    gatePassed: (ring: string, when: string) => event(s, 'GatePassed', { ring, at: when }),
  };
};

/** A ring's events. */
export const ring = (name: string) => ({
  paused: (by: 'service' | 'tenant' = 'tenant') => event(ringStream(name), 'RingPaused', { by, reason: 'change freeze' }),
});

/** A step as the specifications show it. */
export function describeStep(step: Step): string {
  if (step.kind === 'lookup') return `look up ${step.command.id}`;
  return `${step.intent.stream}@${step.intent.expectedVersion}: ${step.intent.events.map((e) => e.type).join(', ')}`;
}

export interface Then<R> {
  readonly decided: Decided<R>;
  readonly result: R;
  /** The events of the n-th step. */
  events(n: number): ReadonlyArray<{ readonly id?: string; readonly type: string; readonly data: unknown }>;
  then(...steps: string[]): Then<R>;
}

export interface When {
  readonly view: FleetProjection;
  tick(): Then<ReturnType<typeof decideTick>['result']>;
  catchUp(): Then<ReturnType<typeof decideCatchUp>['result']>;
  report(report: AgentReport): Then<ReturnType<typeof decideReport>['result']>;
}

/** The log as these events (a device's or a rollout's, in order; `at(time)` dates the ones after it). */
export function given(...entries: ReadonlyArray<Event | At | readonly Event[]>) {
  const view = new FleetProjection();
  const versions = new Map<string, number>();
  let time = RELEASED;
  let position = 0;
  for (const entry of entries.flat()) {
    if ('at' in entry) {
      time = entry.at;
      continue;
    }
    const version = (versions.get(entry.stream) ?? 0) + 1;
    versions.set(entry.stream, version);
    position++;
    view.apply({ id: `e${position}`, stream: entry.stream, version, position, time, type: entry.type, data: entry.data } as never);
  }
  const releases = new Releases();
  releases.learn(view);
  return {
    /** The decision at `now`, with the memory and the store's answers to its steps (by index) so far. */
    when(now: string, options: { readonly policy?: FleetPolicy; readonly memory?: Memory; readonly answers?: ReadonlyMap<number, Answer>; readonly pace?: TickPace } = {}): When {
      const input: DecisionInput = { view, releases, policy: options.policy ?? POLICY, now, memory: options.memory ?? emptyMemory(), ...(options.answers ? { answers: options.answers } : {}) };
      const then = <R>(decided: Decided<R>): Then<R> => {
        const self: Then<R> = {
          decided,
          result: decided.result,
          events: (n) => {
            const step = decided.steps[n]!;
            if (step.kind !== 'append') throw new Error(`step ${n} is a lookup`);
            return step.intent.events;
          },
          then: (...steps) => {
            expect(decided.steps.map(describeStep)).toEqual(steps);
            return self;
          },
        };
        return self;
      };
      // A decision reads the view and never changes it (its drafts copy what they change): checked at every decision.
      const pure = <R>(decide: () => Decided<R>): Then<R> => {
        const before = view.serialize();
        const decided = decide();
        expect(view.serialize(), 'the view after the decision').toEqual(before);
        return then(decided);
      };
      return {
        view,
        tick: () => pure(() => decideTick(input, options.pace)),
        catchUp: () => pure(() => decideCatchUp(input)),
        report: (report) => pure(() => decideReport(input, report)),
      };
    },
  };
}

const HP_EVENTS = rollout(HOTPATCH);
const hoursAfterRelease = (h: number) => new Date(Date.parse(RELEASED) + h * 3_600_000).toISOString();
/** The hotpatch proved in the pilot ring: p1 instructed and verified, the gate passed a day later. */
export const pilotProved = [
  device('p1').enrolled('pilot'),
  device('p1').assessed(),
  HP_EVENTS.planned(),
  HP_EVENTS.ringStarted('pilot', RELEASED, 1),
  device('p1').staged(),
  device('p1').applying(),
  HP_EVENTS.instructed('pilot', 'p1'),
  device('p1').applied(),
  device('p1').verified(),
  HP_EVENTS.succeeded('pilot', 'p1'),
  at(hoursAfterRelease(25)),
  HP_EVENTS.gatePassed('pilot', hoursAfterRelease(25)),
];
