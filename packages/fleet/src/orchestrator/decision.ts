/**
 * A decision in the making: pure, over a draft of the fleet that takes in each step it decides; where the store answers
 * a step otherwise than decided, the shell decides again with that answer (see docs/architecture.md, "Rollouts").
 */
import { CommandRefusal, type DeviceCommand, type RolloutEventBody } from '@hotpatch/core';
import { intentOrRefusal, type Command, type Intent, type Known, type StateOf } from '@hotpatch/engine';
import type { RecordedEvent } from '@hotpatch/store';
import type { FleetPolicy } from '../policy.js';
import type { FleetProjection } from '../projection.js';
import { FleetDraft } from './fleet-draft.js';
import { idAt } from './ids.js';
import { MemoryDraft, type Memory } from './memory.js';
import type { Releases } from './release.js';

type Meta = Readonly<Record<string, unknown>>;
export type WithId<C> = C & { readonly id: string };

/** What the store said of a step that did not go as decided. */
export type Answer =
  /** Written, after its command was decided again on its stream's fresh state (another writer came first). */
  | { readonly kind: 'written'; readonly events: readonly RecordedEvent[]; readonly after: Known<unknown> }
  /** Recorded before (a retry, another instance, a step taken long ago): nothing written. */
  | { readonly kind: 'duplicate' }
  /** Refused on its stream's fresh state, and never recorded. */
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * A step of a decision: an intent to append, or an agent's command the view refuses, to be looked for in the log
 * (a retry of a report recorded before is answered as a duplicate, not refused).
 */
export type Step =
  | { readonly kind: 'append'; readonly intent: Intent }
  | { readonly kind: 'lookup'; readonly command: WithId<Command>; readonly known: Known<unknown>; readonly reason: string; readonly meta?: Meta };

export interface DecisionInput {
  /** The projection of the log; never changed by a decision. */
  readonly view: FleetProjection;
  readonly releases: Releases;
  readonly policy: FleetPolicy;
  /** The decision's time (ISO): its events' time, and what timeouts, silences, deferrals and deadlines count to. */
  readonly now: string;
  readonly memory: Memory;
  /** Recorded on every event. */
  readonly meta?: Meta;
  /** The store's answers to earlier steps of this unit that did not go as decided, by step index. */
  readonly answers?: ReadonlyMap<number, Answer>;
}

export interface Decided<R> {
  readonly result: R;
  /** The decision's steps, the caller's: the shell lets each go once it has committed it. */
  readonly steps: Step[];
  /** The memory's changes, kept once the steps are recorded. */
  readonly memory: MemoryDraft;
}

/** What became of a command: written (or to be), recorded before, refused, or not known until the log is looked at. */
export type Outcome = { readonly status: 'written'; readonly events: number } | { readonly status: 'duplicate' } | { readonly status: 'refused'; readonly reason: string } | { readonly status: 'unknown' };

const NO_ANSWERS: ReadonlyMap<number, Answer> = new Map();

export class Decision {
  readonly steps: Step[] = [];
  readonly fleet: FleetDraft;
  readonly memory: MemoryDraft;
  readonly releases: Releases;
  readonly policy: FleetPolicy;
  readonly now: string;
  private readonly meta: Meta | undefined;
  private readonly answers: ReadonlyMap<number, Answer>;

  constructor(input: DecisionInput) {
    this.fleet = new FleetDraft(input.view);
    this.memory = new MemoryDraft(input.memory);
    this.releases = input.releases;
    this.policy = input.policy;
    this.now = input.now;
    this.meta = input.meta;
    this.answers = input.answers ?? NO_ANSWERS;
  }

  done<R>(result: R): Decided<R> {
    return { result, steps: this.steps, memory: this.memory };
  }

  /**
   * A device command of the orchestrator's own, its id derived from the device and the key (whose release's date
   * leads it): whether it is recorded. A refusal means the device moved on, which is not an error here. `meta`: on
   * its events besides the orchestrator's (what a healing step healed, say).
   */
  command(key: string, command: DeviceCommand, meta?: Meta): boolean {
    // Keys name a release after their first colon (`stage:HP-2026-02`, `uninstall:LCU-HP-2026-02`).
    const at = this.releases.releasedAt(key.slice(key.indexOf(':') + 1));
    return this.submit({ ...command, id: idAt(at, command.device, key) }, this.fleet.knownDevice(command.device), meta).status === 'written';
  }

  /**
   * A rollout event, its id derived from the rollout and the key (led by its release's date, `releasedAt` when the
   * instance does not know the release yet): whether it is recorded (refused: the rollout moved on).
   */
  record(rollout: string, key: string, event: RolloutEventBody, options: { readonly releasedAt?: string; readonly meta?: Meta } = {}): boolean {
    const at = options.releasedAt ?? this.releases.get(rollout)?.releasedAt ?? this.fleet.rollout(rollout)?.plan?.releasedAt;
    return this.submit({ rollout, id: idAt(at, rollout, key), event }, this.fleet.knownRollout(rollout), options.meta).status === 'written';
  }

  /** An agent's command, with the report's meta: a refusal may be a retry of one recorded before, which the log tells. */
  report(command: WithId<DeviceCommand>, meta?: Meta): Outcome {
    return this.submit(command, this.fleet.knownDevice(command.device), meta, true);
  }

  private submit<C extends Command>(command: WithId<C>, known: Known<StateOf<C>>, meta?: Meta, lookUp = false): Outcome {
    const answer = this.answers.get(this.steps.length);
    // The decision's meta as it is, for the commands that bring none of their own (most).
    const intent = intentOrRefusal(known, command, this.now, meta === undefined ? this.meta : { ...this.meta, ...meta });
    // Refusals are frequent here (an agent's late or repeated report, a device that moved on): values, not errors.
    if (intent instanceof CommandRefusal) {
      if (!lookUp) return { status: 'refused', reason: intent.reason };
      this.steps.push({ kind: 'lookup', command, known, reason: intent.reason, ...(meta !== undefined ? { meta } : {}) });
      if (answer === undefined) return { status: 'unknown' };
      if (answer.kind === 'written') {
        // Valid on the log as it is now (the projection had not read another writer's events yet): written.
        this.fleet.adopt(answer.events, answer.after);
        return { status: 'written', events: answer.events.length };
      }
      return answer.kind === 'duplicate' ? { status: 'duplicate' } : { status: 'refused', reason: intent.reason };
    }
    this.steps.push({ kind: 'append', intent: intent as Intent });
    if (answer === undefined) {
      this.fleet.applyDecided(intent as Intent);
      return { status: 'written', events: intent.events.length };
    }
    if (answer.kind === 'written') {
      this.fleet.adopt(answer.events, answer.after);
      return { status: 'written', events: answer.events.length };
    }
    return answer.kind === 'duplicate' ? { status: 'duplicate' } : { status: 'refused', reason: answer.reason };
  }
}
