/** The fleet as a decision sees it: the projection, with the steps decided so far applied to drafts of the records. */
import { fromStreamName, rolloutLifecycle, type DeviceState, type HotpatchEvent, type RolloutEventData, type RolloutState } from '@hotpatch/core';
import { isDeviceCommand, type Intent, type Known } from '@hotpatch/engine';
import type { RecordedEvent } from '@hotpatch/store';
import type { FleetProjection } from '../projection.js';
import { evolveDeviceRecord, evolveRolloutRecord, newDeviceRecord, protectedUpToOf } from '../projection/apply.js';
import type { DeviceRecord, Instruction, RolloutOutcome } from '../projection/records.js';
import { MapDraft, SetDraft, type MapView, type SetView } from './overlay.js';

/** A device as a decision reads it. */
export type DeviceView = Readonly<DeviceRecord>;

/** A rollout as a decision reads it. */
export interface RolloutView {
  readonly id: string;
  readonly state: RolloutState;
  readonly version: number;
  /** Devices instructed, by id: their ring, the action and when. */
  readonly instructed: MapView<string, Instruction>;
  /** Devices with an outcome recorded in the rollout. */
  readonly outcomes: MapView<string, RolloutOutcome>;
  /** Devices instructed and without an outcome yet. */
  readonly pending: SetView<string>;
  readonly plan: RolloutEventData['RolloutPlanned'] | null;
  readonly pauses: ReadonlyArray<readonly [string, string | null]>;
}

interface RolloutDraft extends RolloutView {
  state: RolloutState;
  version: number;
  plan: RolloutEventData['RolloutPlanned'] | null;
  readonly instructed: MapDraft<string, Instruction>;
  readonly outcomes: MapDraft<string, RolloutOutcome>;
  readonly pending: SetDraft<string>;
  pauses: Array<[string, string | null]>;
}

const NO_INSTRUCTIONS: ReadonlyMap<string, Instruction> = new Map();
const NO_OUTCOMES: ReadonlyMap<string, RolloutOutcome> = new Map();
const NO_DEVICES: ReadonlySet<string> = new Set();
/** The device events that change a device's outcomes. */
const OUTCOME_EVENTS: ReadonlySet<string> = new Set(['PatchVerified', 'PatchApplyFailed', 'HealthCheckFailed', 'PatchRolledBack', 'RollbackFailed']);

export class FleetDraft {
  // Made at the first use: a decision is made for every report, and most write one device and read a few rollouts.
  /** Copies of the devices written to, changed in place from then on. */
  private devices: Map<string, DeviceRecord> | undefined;
  /** Every rollout read, as a draft: a reference a decision holds stays current as it records. */
  private rolloutDrafts: Map<string, RolloutDraft> | undefined;

  constructor(readonly base: FleetProjection) {}

  device(id: string): DeviceView | undefined {
    return this.devices?.get(id) ?? this.base.devices.get(id);
  }

  rollout(id: string): RolloutView | undefined {
    return this.rolloutDrafts?.get(id) ?? (this.base.rollouts.has(id) ? this.draftOf(id) : undefined);
  }

  /** A rollout as the decision has it so far, without drafting it: for a look that records nothing. */
  rolloutAsIs(id: string): RolloutView | undefined {
    return this.rolloutDrafts?.get(id) ?? this.base.rollouts.get(id);
  }

  /** The rollouts, in the projection's order. */
  rollouts(): RolloutView[] {
    return [...this.base.rollouts.keys()].map((id) => this.rollout(id)!);
  }

  knownDevice(id: string): Known<DeviceState> {
    const d = this.device(id);
    return d !== undefined ? { state: d.state, version: d.version } : { state: newDeviceRecord(id, '').state, version: 0 };
  }

  knownRollout(id: string): Known<RolloutState> {
    const r = this.rollout(id);
    return r !== undefined ? { state: r.state, version: r.version } : { state: rolloutLifecycle.initial as RolloutState, version: 0 };
  }

  /** Takes in what a decision decided: its events, from the version it was decided on, and the state they lead to. */
  applyDecided(intent: Intent): void {
    const { command, events } = intent;
    // Told apart once per intent (`in` on commands of many shapes is a slow look-up).
    const device = isDeviceCommand(command) ? command.device : undefined;
    const rollout = device === undefined && 'rollout' in command ? command.rollout : undefined;
    for (let i = 0; i < events.length; i++) {
      const event = { type: events[i]!.type, data: events[i]!.data, time: intent.time, version: intent.expectedVersion + 1 + i } as HotpatchEvent;
      const next = i === events.length - 1 ? intent.state : undefined;
      if (device !== undefined) this.applyDevice(device, event, next as DeviceState | undefined);
      else if (rollout !== undefined) this.applyRollout(rollout, event, next as RolloutState | undefined);
    }
  }

  /**
   * Takes in what the store recorded after deciding a command again on its stream's fresh state (another writer came
   * first): the stream's state and version as the store gave them; its timings and outcomes as these events tell.
   */
  adopt(events: readonly RecordedEvent[], after: Known<unknown>): void {
    const stream = events.length > 0 ? fromStreamName(events[0]!.stream) : undefined;
    for (const event of events) {
      if (stream?.kind === 'device') this.applyDevice(stream.id, event as HotpatchEvent, after.state as DeviceState);
      else if (stream?.kind === 'rollout') this.applyRollout(stream.id, event as HotpatchEvent, after.state as RolloutState);
    }
    const record = stream?.kind === 'device' ? this.devices?.get(stream.id) : stream?.kind === 'rollout' ? this.rolloutDrafts?.get(stream.id) : undefined;
    if (record !== undefined) record.version = after.version;
  }

  private applyDevice(id: string, event: HotpatchEvent, next: DeviceState | undefined): void {
    let record = this.devices?.get(id);
    if (record === undefined) {
      const base = this.base.devices.get(id);
      record = base !== undefined ? { ...base } : newDeviceRecord(id, event.time);
      (this.devices ??= new Map()).set(id, record);
    }
    // The outcomes are the projection's until an event changes them.
    if (OUTCOME_EVENTS.has(event.type) && record.outcomes === this.base.devices.get(id)?.outcomes) {
      (record as { outcomes: DeviceRecord['outcomes'] }).outcomes = new Map(record.outcomes);
    }
    const { baseline, applied } = record.state.context;
    evolveDeviceRecord(record, event, event.time, next);
    if (record.state.context.baseline !== baseline || record.state.context.applied !== applied) record.protectedUpTo = protectedUpToOf(this.base.state, record.state);
  }

  private applyRollout(id: string, event: HotpatchEvent, next: RolloutState | undefined): void {
    const draft = this.rolloutDrafts?.get(id) ?? this.draftOf(id);
    // Its pauses are the projection's until a pause or a resume changes them (never a decision's doing).
    if (event.type === 'RolloutPaused' || event.type === 'RolloutResumed') draft.pauses = draft.pauses.map(([from, to]) => [from, to]);
    evolveRolloutRecord(draft, event, event.time, next);
  }

  private draftOf(id: string): RolloutDraft {
    const base = this.base.rollouts.get(id);
    const draft: RolloutDraft = {
      id,
      state: base?.state ?? (rolloutLifecycle.initial as RolloutState),
      version: base?.version ?? 0,
      plan: base?.plan ?? null,
      instructed: new MapDraft(base?.instructed ?? NO_INSTRUCTIONS),
      outcomes: new MapDraft(base?.outcomes ?? NO_OUTCOMES),
      pending: new SetDraft(base?.pending ?? NO_DEVICES),
      pauses: base?.pauses ?? [],
    };
    (this.rolloutDrafts ??= new Map()).set(id, draft);
    return draft;
  }
}
