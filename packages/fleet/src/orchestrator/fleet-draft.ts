/** The fleet as a decision sees it: the projection, with the steps decided so far applied to drafts of the records. */
import { fromStreamName, rolloutLifecycle, type DeviceState, type HotpatchEvent, type RolloutEventData, type RolloutState } from '@hotpatch/core';
import type { Intent, Known } from '@hotpatch/engine';
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

/** An event of a stream as a draft takes it in: decided (its version the one it would take) or recorded. */
type DraftEvent = Pick<HotpatchEvent, 'type' | 'data' | 'time' | 'version' | 'stream'>;

export class FleetDraft {
  /** Copies of the devices written to, changed in place from then on. */
  private readonly devices = new Map<string, DeviceRecord>();
  /** Every rollout read, as a draft: a reference a decision holds stays current as it records. */
  private readonly rolloutDrafts = new Map<string, RolloutDraft>();

  constructor(readonly base: FleetProjection) {}

  device(id: string): DeviceView | undefined {
    return this.devices.get(id) ?? this.base.devices.get(id);
  }

  rollout(id: string): RolloutView | undefined {
    return this.rolloutDrafts.get(id) ?? (this.base.rollouts.has(id) ? this.draftOf(id) : undefined);
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
    intent.events.forEach((event, i) => {
      const last = i === intent.events.length - 1;
      this.apply({ ...event, stream: intent.stream, version: intent.expectedVersion + 1 + i } as DraftEvent, last ? intent.state : undefined);
    });
  }

  /**
   * Takes in what the store recorded after deciding a command again on its stream's fresh state (another writer came
   * first): the stream's state and version as the store gave them; its timings and outcomes as these events tell.
   */
  adopt(events: readonly RecordedEvent[], after: Known<unknown>): void {
    for (const event of events) this.apply(event as DraftEvent, after.state);
    const last = events.at(-1);
    const stream = last !== undefined ? fromStreamName(last.stream) : undefined;
    const record = stream?.kind === 'device' ? this.devices.get(stream.id) : stream?.kind === 'rollout' ? this.rolloutDrafts.get(stream.id) : undefined;
    if (record !== undefined) record.version = after.version;
  }

  private apply(event: DraftEvent, state: unknown): void {
    const stream = fromStreamName(event.stream);
    if (stream?.kind === 'device') {
      let record = this.devices.get(stream.id);
      if (record === undefined) {
        const base = this.base.devices.get(stream.id);
        record = base !== undefined ? { ...base, outcomes: new Map(base.outcomes) } : newDeviceRecord(stream.id, event.time);
        this.devices.set(stream.id, record);
      }
      evolveDeviceRecord(record, event as HotpatchEvent, event.time, state as DeviceState | undefined);
      record.protectedUpTo = protectedUpToOf(this.base.state, record.state);
    } else if (stream?.kind === 'rollout') {
      const draft = this.rolloutDrafts.get(stream.id) ?? this.draftOf(stream.id);
      // Its pauses are the projection's until a pause or a resume changes them (never a decision's doing).
      if (event.type === 'RolloutPaused' || event.type === 'RolloutResumed') draft.pauses = draft.pauses.map(([from, to]) => [from, to]);
      evolveRolloutRecord(draft, event as HotpatchEvent, event.time, state as RolloutState | undefined);
    }
    // A ring's pause is a person's command, never a decision's.
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
    this.rolloutDrafts.set(id, draft);
    return draft;
  }
}
