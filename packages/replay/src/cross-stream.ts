/**
 * Verify's one check across streams: a device's patch steps against its rollout's records. An orchestrator gives a
 * device its rollout's instruction in one unit of work — the device's `PatchStaged` and `PatchApplyStarted` (or its
 * `RebootRequired`), then the rollout's `DeviceInstructed` — and a catch-up its stage and apply together. A unit cut
 * short between those appends (a process killed where the store does not group them) leaves a gap: a step without
 * the ones that belong with it. Found in one pass, keeping only what a gap needs (each rollout's ring in its turn and
 * the devices it instructed there, and the steps still waiting for the rest of their unit); reported at the step,
 * once per gap. An instruction its device has not answered yet (instructed, applying, the agent silent) is no gap:
 * the orchestrator's own steps are all there. Steps written later by a healing close the gap they fill.
 */
import { HotpatchError, tenantOf, toStreamName, type EventLocation, type HotpatchEvent } from '@hotpatch/core';
import { placeOf } from './roots.js';

/** What is missing. */
export type InstructionGap = 'staged-without-instruction' | 'applying-without-instruction' | 'reboot-without-instruction' | 'instruction-without-step' | 'stage-without-apply';

/** A unit of work cut short between its appends: a device's steps and its rollout's records do not match. */
export class InstructionGapError extends HotpatchError {
  readonly code = 'INSTRUCTION_GAP';
  constructor(
    /** Where the gap shows: the step (or the instruction) its unit did not finish. */
    readonly at: EventLocation,
    readonly what: string,
    readonly gap: InstructionGap,
    readonly device: string,
    /** The release (its rollout's id), or the patch staged. */
    readonly release: string,
    /** Where each step of the unit that is there is. */
    readonly steps: readonly EventLocation[],
  ) {
    super(`${placeOf(at)}: ${at.stream}@${at.version}: ${what}`);
  }
}

/** A step of a unit, where it is. */
interface Step {
  readonly type: string;
  readonly order: number;
  readonly at: EventLocation;
}

interface Rollout {
  readonly id: string;
  readonly kind: string;
  /** The restart it gives a device: a baseline, or a hotpatch's cumulative update; and why. */
  readonly target: string | undefined;
  readonly reason: string;
  /** The ring in its turn (instructions go to it), from its RingStarted; null between rings, halted or done. */
  ring: string | null;
  turnAt: EventLocation | undefined;
  /** The devices it instructed in this turn. */
  instructed: Set<string>;
  /** The rings whose gate it passed: their devices it never instructed are caught up with its release. */
  readonly passed: Set<string>;
}

/** What a finding is built from, once the log has been read. */
export interface GapFinding {
  readonly order: number;
  readonly error: InstructionGapError;
  /** The streams it is about: a problem of their own makes it moot. */
  readonly streams: readonly string[];
}

const key = (rollout: string, device: string) => `${rollout}\u0000${device}`;
const steps = (list: readonly Step[]) => list.map((s) => `${s.type} at ${placeOf(s.at)}`).join(', ');

export class CrossStreamCheck {
  private readonly rollouts = new Map<string, Rollout>();
  /** Rollouts by the release they roll out, and by the restart they give. */
  private readonly byRelease = new Map<string, Rollout>();
  private readonly byTarget = new Map<string, Rollout>();
  private readonly rings = new Map<string, string>();
  /** In-turn steps of a device the rollout has not instructed (yet). */
  private readonly owed = new Map<string, { readonly rollout: Rollout; readonly device: string; readonly turn: EventLocation; readonly steps: Step[] }>();
  /** Instructions whose device's steps have not come (yet). */
  private readonly expected = new Map<string, { readonly rollout: Rollout; readonly device: string; readonly action: string; readonly step: Step; readonly staged: Step | undefined }>();
  /** Stages of a rollout's release after its ring's turn (a catch-up's), waiting for their apply. */
  private readonly stages = new Map<string, { readonly patch: string; readonly step: Step }>();
  private readonly found: GapFinding[] = [];

  /** What the streams of this check's tenant begin with (`device/`, or `tenant/<tenant>/device/`). */
  private readonly devicePrefix: string;
  private readonly rolloutPrefix: string;

  /**
   * `owns`: the devices this check answers for (a shard's), by their streams' names; every rollout is followed
   * whatever it says. `tenant`: the tenant whose streams it checks (undefined: the default tenant's); a device is
   * checked against its own tenant's rollouts only (see TenantCrossStreamCheck).
   */
  constructor(
    private readonly owns: (deviceStream: string) => boolean = () => true,
    tenant?: string,
  ) {
    this.devicePrefix = toStreamName('device', '', tenant);
    this.rolloutPrefix = toStreamName('rollout', '', tenant);
  }

  /**
   * An event the lifecycle accepted, in log order; `where` tells where it is (called only for the events a gap is
   * about).
   */
  add(event: HotpatchEvent, where: () => { readonly order: number; readonly at: EventLocation }): void {
    const { stream } = event;
    if (stream.startsWith(this.devicePrefix)) this.deviceEvent(stream.slice(this.devicePrefix.length), event, where);
    else if (stream.startsWith(this.rolloutPrefix)) this.rolloutEvent(stream.slice(this.rolloutPrefix.length), event, where);
  }

  /** Whether a gap was found so far (the ones the log's end settles are not known before `findings`). */
  get any(): boolean {
    return this.found.length > 0;
  }

  /** Every gap, once the log is read. */
  findings(): GapFinding[] {
    for (const { rollout, device, turn, steps: list } of this.owed.values()) this.ownedGap(rollout, device, turn, list);
    for (const e of this.expected.values()) this.instructionGap(e.rollout, e.device, e.action, e.step, e.staged);
    for (const [device, { patch, step }] of this.stages) this.stageGap(device, patch, step);
    this.owed.clear();
    this.expected.clear();
    this.stages.clear();
    return this.found.sort((a, b) => a.order - b.order);
  }

  private deviceEvent(device: string, event: HotpatchEvent, where: () => { readonly order: number; readonly at: EventLocation }): void {
    if (this.stages.size !== 0) {
      const stage = this.stages.get(device);
      if (stage !== undefined) {
        this.stages.delete(device);
        if (!(event.type === 'PatchApplyStarted' && (event.data as { patch: string }).patch === stage.patch)) this.stageGap(device, stage.patch, stage.step);
      }
    }
    switch (event.type) {
      case 'DeviceEnrolled':
        this.rings.set(device, (event.data as { ring: string }).ring);
        return;
      case 'PatchStaged':
      case 'PatchApplyStarted': {
        const patch = (event.data as { patch: string }).patch;
        const rollout = this.byRelease.get(patch);
        if (!this.owns(this.devicePrefix + device)) return;
        const inTurn = rollout !== undefined && rollout.ring !== null && rollout.ring === this.rings.get(device);
        if (inTurn) this.step(rollout, device, event.type, where);
        // A catch-up's stage (its ring proved the release): its apply comes with it.
        else if (event.type === 'PatchStaged' && rollout?.passed.has(this.rings.get(device)!)) this.stages.set(device, { patch, step: { type: event.type, ...where() } });
        return;
      }
      case 'RebootRequired': {
        const { reason, baseline } = event.data as { reason: string; baseline?: string };
        const rollout = baseline === undefined ? undefined : this.byTarget.get(baseline);
        if (rollout !== undefined && rollout.reason === reason && rollout.ring !== null && rollout.ring === this.rings.get(device) && this.owns(this.devicePrefix + device)) this.step(rollout, device, event.type, where);
        return;
      }
    }
  }

  /** A device's step in its ring's turn of the rollout that gives it. */
  private step(rollout: Rollout, device: string, type: string, where: () => { readonly order: number; readonly at: EventLocation }): void {
    const k = key(rollout.id, device);
    if (rollout.instructed.has(device)) {
      // After its instruction: the steps a healing carried on (an instruction without them), or the device's own.
      const e = this.expected.get(k);
      if (e !== undefined && type === (e.action === 'reboot' ? 'RebootRequired' : 'PatchApplyStarted')) this.expected.delete(k);
      return;
    }
    let owed = this.owed.get(k);
    if (owed === undefined) this.owed.set(k, (owed = { rollout, device, turn: rollout.turnAt!, steps: [] }));
    owed.steps.push({ type, ...where() });
  }

  private rolloutEvent(id: string, event: HotpatchEvent, where: () => { readonly order: number; readonly at: EventLocation }): void {
    switch (event.type) {
      case 'RolloutPlanned': {
        const plan = event.data as { release: string; releaseKind: string; baseline?: string; cumulativeUpdate?: string; rebootReason?: string };
        const target = plan.releaseKind === 'baseline' ? plan.baseline : plan.cumulativeUpdate;
        const rollout: Rollout = { id, kind: plan.releaseKind, target, reason: plan.releaseKind === 'baseline' ? (plan.rebootReason ?? 'baseline') : 'eligibility', ring: null, turnAt: undefined, instructed: new Set(), passed: new Set() };
        this.rollouts.set(id, rollout);
        this.byRelease.set(plan.release, rollout);
        if (target !== undefined) this.byTarget.set(target, rollout);
        return;
      }
      case 'RingStarted': {
        const rollout = this.rollouts.get(id);
        if (rollout === undefined) return;
        rollout.ring = (event.data as { ring: string }).ring;
        rollout.turnAt = where().at;
        rollout.instructed = new Set();
        return;
      }
      case 'GatePassed':
      case 'RolloutHalted': {
        const rollout = this.rollouts.get(id);
        if (rollout === undefined) return;
        if (event.type === 'GatePassed') rollout.passed.add((event.data as { ring: string }).ring);
        rollout.ring = null;
        return;
      }
      case 'DeviceInstructed': {
        const rollout = this.rollouts.get(id);
        const { device, action } = event.data as { device: string; action: string };
        if (rollout === undefined || !this.owns(this.devicePrefix + device)) return;
        rollout.instructed.add(device);
        const k = key(id, device);
        const owed = this.owed.get(k);
        this.owed.delete(k);
        const has = (type: string) => owed?.steps.find((s) => s.type === type);
        const done = action === 'reboot' ? has('RebootRequired') : has('PatchApplyStarted');
        if (done === undefined) this.expected.set(k, { rollout, device, action, step: { type: event.type, ...where() }, staged: has('PatchStaged') });
        return;
      }
    }
  }

  /** Steps of a device's instruction, the rollout's record of it missing. */
  private ownedGap(rollout: Rollout, device: string, turn: EventLocation, list: readonly Step[]): void {
    const first = list[0]!;
    const applying = list.some((s) => s.type === 'PatchApplyStarted');
    const gap: InstructionGap = first.type === 'RebootRequired' ? 'reboot-without-instruction' : applying ? 'applying-without-instruction' : 'staged-without-instruction';
    const missing = gap === 'staged-without-instruction' ? `and neither its PatchApplyStarted nor the rollout's DeviceInstructed for ${device} follows` : `but the rollout's DeviceInstructed for ${device} never follows`;
    const subject = first.type === 'RebootRequired' ? rollout.target : rollout.id;
    const then = list.length > 1 ? `, then ${steps(list.slice(1))},` : '';
    const what = `${first.type} ${subject}${then} in ring ${this.rings.get(device)}'s turn of ${this.rolloutPrefix}${rollout.id} (its RingStarted at ${placeOf(turn)}), ${missing}: a unit of work cut short between its appends (an orchestrator's tick heals it)`;
    this.report(first, gap, device, rollout.id, list, what, [this.devicePrefix + device, this.rolloutPrefix + rollout.id]);
  }

  /** A rollout's instruction, the device's steps missing. */
  private instructionGap(rollout: Rollout, device: string, action: string, step: Step, staged: Step | undefined): void {
    const missing = action === 'reboot' ? 'RebootRequired' : staged !== undefined ? `PatchApplyStarted (its PatchStaged at ${placeOf(staged.at)})` : 'PatchStaged and PatchApplyStarted';
    const what = `DeviceInstructed for ${device} (${action}), but ${this.devicePrefix}${device} has no ${missing} for ${rollout.id} in this turn: a unit of work cut short between its appends, or the device's writes lost (an orchestrator's tick heals it)`;
    this.report(step, 'instruction-without-step', device, rollout.id, staged === undefined ? [step] : [staged, step], what, [this.devicePrefix + device, this.rolloutPrefix + rollout.id]);
  }

  /** A stage of a rollout's release after the device's ring passed (a catch-up's) whose apply did not follow. */
  private stageGap(device: string, patch: string, step: Step): void {
    const what = `PatchStaged ${patch} is not followed by its PatchApplyStarted: a unit of work cut short between its appends (an orchestrator's catch-up heals it)`;
    this.report(step, 'stage-without-apply', device, patch, [step], what, [this.devicePrefix + device]);
  }

  private report(step: Step, gap: InstructionGap, device: string, release: string, list: readonly Step[], what: string, streams: readonly string[]): void {
    this.found.push({ order: step.order, error: new InstructionGapError(step.at, what, gap, device, release, list.map((s) => s.at)), streams });
  }
}

/**
 * The check across streams of a log that tenants share: one CrossStreamCheck per tenant, so that a device is checked
 * against its own tenant's rollouts only (tenants roll out the same releases, with the same rollout ids). The
 * findings of them all, in log order.
 */
export class TenantCrossStreamCheck {
  private readonly checks = new Map<string | undefined, CrossStreamCheck>();

  /** `owns`: the devices this check answers for (a shard's), by their streams' full names. */
  constructor(private readonly owns: (deviceStream: string) => boolean = () => true) {}

  add(event: HotpatchEvent, where: () => { readonly order: number; readonly at: EventLocation }): void {
    const tenant = tenantOf(event.stream);
    let check = this.checks.get(tenant);
    if (check === undefined) this.checks.set(tenant, (check = new CrossStreamCheck(this.owns, tenant)));
    check.add(event, where);
  }

  get any(): boolean {
    for (const check of this.checks.values()) if (check.any) return true;
    return false;
  }

  findings(): GapFinding[] {
    return [...this.checks.values()].flatMap((check) => check.findings()).sort((a, b) => a.order - b.order);
  }
}
