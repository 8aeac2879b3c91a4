/**
 * The orchestrator: the core of a patching service, as a library. Built from a store, a clock and a policy, it
 * turns agent reports into device events and, on each tick, decides and records the next instructions of every
 * rollout. Every event it writes has an id derived from what it means (the rollout, the device, the step), so a
 * retried report, a restarted instance or a second instance over the same log writes nothing twice.
 */
import {
  addDays,
  CommandRefusedError,
  HotpatchError,
  RESTING_STATES,
  ringLifecycle,
  ringOpensAt,
  rolloutLifecycle,
  type DeviceCommand,
  type DeviceStateValue,
  type FailureReason,
  type RingEventBody,
  type RingState,
  type RolloutEventBody,
  type RolloutEventData,
  type RolloutState,
} from '@hotpatch/core';
import { createEngine, nameBasedIds, timedNameBasedIds, timeOfId, type Engine, type Known, type RingCommand, type RolloutCommand } from '@hotpatch/engine';
import { inBatch, type EventStore, type RecordedEvent } from '@hotpatch/store';
import type { Clock } from './clock.js';
import type { FleetPolicy } from './policy.js';
import { applyTimedOut, applyTimeoutReason, isApplyTimeout } from './rules/apply-timeout.js';
import { agentSilent, silenceReason } from './rules/silence.js';
import { catchUpProjection, FleetProjection, restoreSavedProjection, type DeviceRecord, type RolloutRecord } from './projection.js';

const NAMESPACE = '9d4b8f2e-6a1c-4e3b-8f7d-2c5a1b9e0d47';
const named = nameBasedIds(NAMESPACE);
const idFor = (...parts: string[]) => named(parts.join('|'));
const timed = timedNameBasedIds(NAMESPACE);
/**
 * A name-based id led by a time every instance agrees on (a release's date; a report id's own time), so that the
 * ids written together lie together in the store's index on ids; a plain name-based one when no time is known.
 */
const idAt = (at: string | number | undefined, ...parts: string[]) => {
  const ms = typeof at === 'string' ? Date.parse(at) : at;
  return ms === undefined || !Number.isSafeInteger(ms) || ms < 0 ? idFor(...parts) : timed(ms, parts.join('|'));
};

export interface ReleaseToRoll {
  readonly id: string;
  readonly kind: 'hotpatch' | 'baseline';
  readonly releasedAt: string;
  /** For a hotpatch: the baseline it applies on. For a baseline: itself. */
  readonly baseline: string;
  readonly requires?: readonly string[];
  readonly liveRevert: boolean;
  readonly outOfBand?: boolean;
  /** Why a baseline needs its reboot (default 'baseline'). */
  readonly rebootReason?: string;
  /**
   * For a hotpatch: the cumulative update that carries the same fix, installed with a restart (the traditional
   * update), which the devices that cannot take the hotpatch get instead: ineligible ones, and those not on its
   * baseline. Default `LCU-<id>`.
   */
  readonly cumulativeUpdate?: string;
  /**
   * For an out-of-band release: the regular release (Patch Tuesday) it ships after. The rings' deferrals count from
   * it, so a ring whose deferral has passed gets the release at once (expedited), the others on their usual date.
   * `deferralsFrom` in `@hotpatch/core` gives it from a catalog. Default: the release's own date.
   */
  readonly deferralsFrom?: string;
}

/**
 * The release a rollout's plan recorded, as `planRollout` takes it: what any instance needs to carry the rollout on
 * from the log alone. Plans written before they recorded a hotpatch's baseline and requires take them from
 * `fallback` (what the devices it was staged on say), or give undefined.
 */
export function releaseFromPlan(
  plan: RolloutEventData['RolloutPlanned'],
  fallback: { readonly baseline?: string; readonly requires?: readonly string[]; readonly rebootReason?: string } = {},
): ReleaseToRoll | undefined {
  const common = {
    id: plan.release,
    releasedAt: plan.releasedAt,
    liveRevert: plan.liveRevert,
    outOfBand: plan.outOfBand,
    ...(plan.deferralsFrom !== undefined ? { deferralsFrom: plan.deferralsFrom } : {}),
  };
  if (plan.releaseKind === 'baseline') return { ...common, kind: 'baseline', baseline: plan.baseline ?? plan.release, rebootReason: plan.rebootReason ?? fallback.rebootReason ?? 'baseline' };
  const baseline = plan.baseline ?? fallback.baseline;
  if (baseline === undefined) return undefined;
  return {
    ...common,
    kind: 'hotpatch',
    baseline,
    requires: plan.requires ?? fallback.requires ?? [],
    ...(plan.cumulativeUpdate !== undefined ? { cumulativeUpdate: plan.cumulativeUpdate } : {}),
  };
}

/**
 * What a device installs, with a restart, to be protected against a release without hotpatching: a baseline itself,
 * a hotpatch's cumulative update.
 */
export function cumulativeUpdateOf(release: Pick<ReleaseToRoll, 'id' | 'kind' | 'baseline' | 'cumulativeUpdate'>): string {
  return release.kind === 'baseline' ? release.baseline : (release.cumulativeUpdate ?? `LCU-${release.id}`);
}

/**
 * What an agent reports. `id` is the report's own id: the agent sends the same id when it retries. `meta` is
 * recorded on the events (how long a restart took the device down, say).
 */
export type AgentReport = { readonly id: string; readonly device: string; readonly meta?: Readonly<Record<string, unknown>> } & (
  | { readonly kind: 'applied'; readonly patch: string }
  | { readonly kind: 'apply-failed'; readonly patch: string; readonly reason: string }
  | { readonly kind: 'health'; readonly patch: string; readonly healthy: boolean; readonly signal?: string }
  | { readonly kind: 'rolled-back'; readonly patch: string }
  | { readonly kind: 'rollback-failed'; readonly patch: string; readonly reason: string }
  /**
   * The restart is done and the baseline (a cumulative update) installed. `healthy: false` says the device is not
   * well on it: the update fails the device's rollout, and is uninstalled (a restart back to the baseline it
   * replaced).
   */
  | { readonly kind: 'baseline-installed'; readonly baseline: string; readonly healthy?: boolean; readonly signal?: string }
);

export type ReportResult =
  | { readonly status: 'recorded'; readonly events: number }
  | { readonly status: 'duplicate' }
  /** The report no longer matches the device (late, or about a patch no longer in flight): kept out of the log. */
  | { readonly status: 'ignored'; readonly reason: string };

export interface TickSummary {
  ringsStarted: number;
  instructed: number;
  outcomes: number;
  timedOut: number;
  setAside: number;
  gatesPassed: number;
  halted: number;
  rollbacks: number;
  /** Devices that joined after a rollout had passed their ring, given what they missed (see `catchUp`). */
  caughtUp: number;
}

export interface OrchestratorOptions {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly policy: FleetPolicy;
  /** Metadata on every event written (which instance, which service…). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** Read the log in batches of this many events when catching up (default 10,000). */
  readonly batchSize?: number;
  /**
   * Keep the projection in the store (`EventStore.saveProjection`) under this name, at the end of a report or a
   * tick once `every` events (default 100,000) came in since the last save: an instance that starts loads it and
   * reads only the log after it, instead of the whole log. Instances over one log may share the name (a projection
   * is a function of the log; the furthest save wins). A save serialises the whole projection, so its cost grows
   * with the fleet (after a year of monthly rollouts, 1.5 to 2.8 KB per device), in parts of about 16 Mi
   * characters (see `FleetProjection.serialize`).
   */
  readonly checkpoint?: { readonly name: string; readonly every?: number };
}

export interface Orchestrator {
  readonly projection: FleetProjection;
  readonly engine: Engine;
  /**
   * Catches the projection up with the log (other writers, other instances); the first time, from the saved
   * projection when there is a usable one (see `checkpoint`).
   */
  sync(): Promise<void>;
  /** Saves the projection now, under the checkpoint's name (on shutdown, say); false when there is no checkpoint. */
  saveCheckpoint(): Promise<boolean>;
  /** Plans a rollout of a release through the policy's rings; returns its id. Planning twice does nothing. */
  planRollout(release: ReleaseToRoll): Promise<string>;
  report(report: AgentReport): Promise<ReportResult>;
  tick(): Promise<TickSummary>;
  /**
   * Pauses a rollout on behalf of the service or the tenant (TransitionRefusedError where the rollout cannot be
   * paused: halted, completed). `id`, when given, is the event's id: a retry with the same id records nothing new.
   */
  pause(rollout: string, by: 'service' | 'tenant', reason: string, id?: string): Promise<void>;
  /** Lifts that party's pause (the service cannot lift the tenant's: TransitionRefusedError). `id` as for pause. */
  resume(rollout: string, by: 'service' | 'tenant', id?: string): Promise<void>;
  /**
   * Pauses a ring, whatever the release (Autopatch's ring pause): no rollout starts it or instructs its devices,
   * out-of-band releases included, and the catch-up leaves its devices alone, until every party that paused it
   * has resumed it. What is in flight goes on (reports, timeouts, a halt's rollbacks), and the ring's deadline does
   * not run meanwhile. Recorded in the stream `ring/<name>`; UnknownRingError for a ring neither the policy nor
   * the fleet names. `id` as for pause.
   */
  pauseRing(ring: string, by: 'service' | 'tenant', reason: string, id?: string): Promise<void>;
  /** Lifts that party's pause of the ring (the service cannot lift the tenant's: TransitionRefusedError). */
  resumeRing(ring: string, by: 'service' | 'tenant', id?: string): Promise<void>;
}

export function createOrchestrator(options: OrchestratorOptions): Orchestrator {
  const { store, clock, policy } = options;
  const projection = new FleetProjection();
  const engine = createEngine({ store, clock: () => clock.now(), ...(options.meta ? { meta: options.meta } : {}), maxAttempts: 10 });
  const releases = new Map<string, ReleaseToRoll>();
  /** The releases by what a device installs with a restart to be protected against them (see cumulativeUpdateOf). */
  const installs = new Map<string, ReleaseToRoll>();
  /** When the release a device's installed baseline or cumulative update brings shipped; null when not known. */
  const installedReleasedAt = (context: { readonly baseline: string | null }) =>
    context.baseline === null ? null : (installs.get(context.baseline)?.releasedAt ?? null);
  const know = (release: ReleaseToRoll) => {
    releases.set(release.id, release);
    installs.set(cumulativeUpdateOf(release), release);
  };
  /**
   * A rollout's release: as this instance was given it (planRollout), or as the rollout's plan recorded it — so an
   * instance carries on the rollouts another instance planned, and a restarted one those it planned before.
   */
  const releaseOf = (rollout: RolloutRecord): ReleaseToRoll | undefined => {
    let release = releases.get(rollout.id);
    if (release === undefined && rollout.plan !== null) {
      release = releaseFromPlan(rollout.plan);
      if (release !== undefined) know(release);
    }
    return release;
  };
  /** Learns the releases of rollouts this instance has not been given (see releaseOf), once each. */
  let plansRead = 0;
  const learnReleases = () => {
    if (projection.rollouts.size === plansRead) return;
    for (const rollout of projection.rollouts.values()) releaseOf(rollout);
    plansRead = projection.rollouts.size;
  };
  const batch = options.batchSize ?? 10_000;
  const now = () => clock.now().toISOString();

  /**
   * Runs one unit of the orchestrator's work in one store transaction where the store groups writes (SQLite: one
   * commit for a whole tick). If it fails, what it wrote is rolled back, and so is the projection: rebuilt from
   * the log on the next sync.
   */
  const unit = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await inBatch(store, async () => {
        const result = await fn();
        // Saved inside the unit: where the store groups writes, the save commits (or not) with what it stands for.
        if (checkpoint !== undefined && projection.position - savedAt >= checkpointEvery) await saveCheckpoint();
        return result;
      });
    } catch (error) {
      if (store.batch) {
        projection.reset();
        waiting.clear();
        haltWatch.clear();
        behind.clear();
        turnsOver.clear();
        examinedAll = false;
        loaded = false;
        savedAt = 0;
      }
      throw error;
    }
  };

  const checkpoint = options.checkpoint;
  const checkpointEvery = checkpoint?.every ?? 100_000;
  if (checkpoint !== undefined && (typeof checkpoint.name !== 'string' || checkpoint.name.length === 0 || !(checkpointEvery >= 1))) {
    throw new RangeError('checkpoint: a non-empty name, and every ≥ 1 event');
  }
  /** Whether the saved projection was looked for since the projection was last empty. */
  let loaded = false;
  /** The position of the last projection saved or loaded. */
  let savedAt = 0;
  const saveCheckpoint = async (): Promise<boolean> => {
    if (checkpoint === undefined) return false;
    await store.saveProjection(checkpoint.name, projection.position, projection.serialize());
    savedAt = projection.position;
    return true;
  };

  const sync = async () => {
    if (!loaded && checkpoint !== undefined && projection.position === 0) {
      loaded = true;
      // A projection saved by another format or other machines is not trusted: the log is read from the start.
      if ((await restoreSavedProjection(projection, store, checkpoint.name)) === 'restored') savedAt = projection.position;
    }
    await catchUpProjection(projection, store, batch);
    learnReleases();
  };

  /**
   * Brings the projection up to what was just written: the store returns the recorded events, so when they follow
   * the projection's position directly they are applied as they are; otherwise (another writer came between, or
   * nothing new was written) the log is read.
   */
  const absorb = async (written: boolean, events: readonly RecordedEvent[]) => {
    if (written && events.length > 0 && events[0]!.position === projection.position + 1) {
      for (const e of events) projection.apply(e);
    } else await sync();
  };

  /** Records a rollout event with a meaningful id; a refusal (the rollout moved on) is not an error here. */
  const record = async (rollout: string, key: string, event: RolloutEventBody): Promise<boolean> => {
    try {
      const at = releases.get(rollout)?.releasedAt ?? projection.rollouts.get(rollout)?.plan?.releasedAt;
      const r = await engine.execute({ rollout, id: idAt(at, rollout, key), event }, { known: knownRollout(rollout) });
      await absorb(!r.duplicate, r.events);
      return !r.duplicate;
    } catch (error) {
      if (error instanceof CommandRefusedError) {
        await sync();
        return false;
      }
      throw error;
    }
  };
  const knownRollout = (rollout: string): Known<RolloutState> => {
    const r = projection.rollouts.get(rollout);
    return r !== undefined ? { state: r.state, version: r.version } : { state: rolloutLifecycle.initial as RolloutState, version: 0 };
  };

  /** Runs a device command with a meaningful id; a refusal means the device moved on, which is not an error. */
  const command = async (key: string, cmd: DeviceCommand): Promise<boolean> => {
    try {
      const known = projection.devices.get(cmd.device);
      // Keys name a release after their first colon (`stage:HP-2026-02`, `uninstall:LCU-HP-2026-02`): its date leads the id.
      const ref = key.slice(key.indexOf(':') + 1);
      const at = releases.get(ref)?.releasedAt ?? installs.get(ref)?.releasedAt;
      const r = await engine.execute({ ...cmd, id: idAt(at, cmd.device, key) }, known ? { known: { state: known.state, version: known.version } } : {});
      await absorb(!r.duplicate, r.events);
      return !r.duplicate;
    } catch (error) {
      if (error instanceof CommandRefusedError) return false;
      throw error;
    }
  };

  const members = (ring: string): DeviceRecord[] => projection.liveRingMembers(ring);

  /**
   * The ring's devices the rollout has not instructed nor settled yet, in enrolment order. Kept between ticks and
   * narrowed as devices are instructed, so a tick looks at the devices still waiting, not at the whole ring; built
   * again when the ring changes or gains members (and checked against the projection on every use).
   */
  const waiting = new Map<string, { ring: string; members: number; ids: string[] }>();
  const candidates = (rollout: RolloutRecord, ring: string): DeviceRecord[] => {
    const size = projection.ringMembers.get(ring)?.size ?? 0;
    let entry = waiting.get(rollout.id);
    if (entry === undefined || entry.ring !== ring || entry.members !== size) {
      entry = { ring, members: size, ids: [...(projection.ringMembers.get(ring) ?? [])] };
      waiting.set(rollout.id, entry);
    }
    entry.ids = entry.ids.filter((id) => !rollout.instructed.has(id) && !rollout.outcomes.has(id));
    const out: DeviceRecord[] = [];
    for (const id of entry.ids) {
      const d = projection.devices.get(id);
      if (d !== undefined && d.state.value !== 'retired') out.push(d);
    }
    return out;
  };

  /** A device's outcome in a rollout, read from its state, or undefined while it is still in flight. */
  const outcomeOf = (rollout: RolloutRecord, device: DeviceRecord, action: 'hotpatch' | 'reboot'): { ok: true } | { ok: false; reason: FailureReason } | undefined => {
    const release = rollout.state.context.release!;
    if (action === 'reboot') return device.lastBaselineAt !== null && device.lastBaselineAt >= rollout.instructed.get(device.id)!.at ? { ok: true } : undefined;
    switch (device.outcomes.get(release)) {
      case 'verified':
        return { ok: true };
      case 'apply-failed':
        return { ok: false, reason: isApplyTimeout(device.applyFailures.get(release) ?? '') ? 'timeout' : 'apply-failed' };
      case 'health-failed':
        return { ok: false, reason: 'health-failed' };
      case 'rolled-back':
        // Rolled back on the service's order (a halt), not for a failure of its own: no outcome to count.
        return undefined;
      case 'rollback-failed':
        return { ok: false, reason: 'rollback-failed' };
      default:
        return undefined;
    }
  };

  /** Records the outcome of every instructed device that has one and is not recorded yet. */
  const reconcile = async (rollout: RolloutRecord, only?: string): Promise<number> => {
    let n = 0;
    // The devices still pending (or one, after its report): not a scan of every device the rollout instructed.
    for (const id of only === undefined ? [...rollout.pending] : rollout.pending.has(only) ? [only] : []) {
      const instruction = rollout.instructed.get(id)!;
      if (rollout.outcomes.has(id)) continue;
      const device = projection.devices.get(id);
      if (!device) continue;
      const outcome = outcomeOf(rollout, device, instruction.action);
      if (!outcome) continue;
      const event: RolloutEventBody = outcome.ok
        ? { type: 'DeviceSucceeded', data: { ring: instruction.ring, device: id } }
        : { type: 'DeviceFailed', data: { ring: instruction.ring, device: id, reason: outcome.reason } };
      if (await record(rollout.id, `outcome:${id}`, event)) n++;
    }
    return n;
  };

  const rolloutsOf = (device: string) => [...projection.rollouts.values()].filter((r) => r.instructed.has(device));

  const planRollout = async (release: ReleaseToRoll) => {
    know(release);
    await sync();
    if (!projection.rollouts.has(release.id)) {
      await record(release.id, 'planned', {
        type: 'RolloutPlanned',
        data: {
          release: release.id,
          releaseKind: release.kind,
          releasedAt: release.releasedAt,
          liveRevert: release.liveRevert,
          outOfBand: release.outOfBand ?? false,
          rings: policy.rings,
          baseline: release.baseline,
          ...(release.kind === 'hotpatch' ? { requires: release.requires ?? [], cumulativeUpdate: cumulativeUpdateOf(release) } : { rebootReason: release.rebootReason ?? 'baseline' }),
          ...(release.deferralsFrom !== undefined && release.deferralsFrom < release.releasedAt ? { deferralsFrom: release.deferralsFrom } : {}),
        },
      });
    }
    return release.id;
  };

  const report = (r: AgentReport): Promise<ReportResult> => unit(() => reportNow(r));
  const reportNow = async (r: AgentReport): Promise<ReportResult> => {
    await sync();
    const device = projection.devices.get(r.device);
    if (!device) return { status: 'ignored', reason: `unknown device ${r.device}` };
    const commands: DeviceCommand[] = [];
    const inFlight = device.state.context.inFlight?.patch;
    switch (r.kind) {
      case 'applied':
        commands.push({ type: 'ReportApplied', device: r.device, patch: r.patch });
        break;
      case 'apply-failed':
        commands.push({ type: 'ReportApplyFailed', device: r.device, patch: r.patch, reason: r.reason });
        break;
      case 'health':
        // A health report can overtake the apply report: the patch is running, so it was applied.
        if (device.state.value === 'applying' && inFlight === r.patch) commands.push({ type: 'ReportApplied', device: r.device, patch: r.patch, id: idAt(timeOfId(r.id), r.id, 'applied') });
        commands.push({ type: 'ReportHealth', device: r.device, patch: r.patch, healthy: r.healthy, ...(r.signal !== undefined ? { signal: r.signal } : {}) });
        break;
      case 'rolled-back':
        commands.push({ type: 'ReportRolledBack', device: r.device, patch: r.patch });
        break;
      case 'rollback-failed':
        commands.push({ type: 'ReportRollbackFailed', device: r.device, patch: r.patch, reason: r.reason });
        break;
      case 'baseline-installed':
        commands.push({ type: 'ReportBaselineInstalled', device: r.device, baseline: r.baseline });
        break;
    }
    let written = 0;
    let duplicate = false;
    for (const [i, cmd] of commands.entries()) {
      try {
        // Decided on the projection's view of the device (kept current by absorb): no read of the store.
        const current = projection.devices.get(r.device)!;
        const result = await engine.execute({ ...cmd, id: cmd.id ?? (i === commands.length - 1 ? r.id : idAt(timeOfId(r.id), r.id, String(i))) }, { known: { state: current.state, version: current.version }, ...(r.meta ? { meta: r.meta } : {}) });
        await absorb(!result.duplicate, result.events);
        if (result.duplicate) duplicate = true;
        else written += result.events.length;
      } catch (error) {
        if (error instanceof CommandRefusedError) return { status: 'ignored', reason: error.reason };
        throw error;
      }
    }
    // A cumulative update the device is not well on: it fails the rollouts that installed it (a baseline's, or a
    // hotpatch's that gave it the cumulative update instead; before they count the install as a success), and it
    // is uninstalled.
    if (r.kind === 'baseline-installed' && r.healthy === false) {
      for (const rollout of rolloutsOf(r.device)) {
        const instruction = rollout.instructed.get(r.device)!;
        const planned = releaseOf(rollout);
        const installed = planned !== undefined ? cumulativeUpdateOf(planned) : rollout.state.context.releaseKind === 'baseline' ? rollout.state.context.release : undefined;
        if (installed !== r.baseline || instruction.action !== 'reboot' || rollout.outcomes.has(r.device)) continue;
        await record(rollout.id, `outcome:${r.device}`, { type: 'DeviceFailed', data: { ring: instruction.ring, device: r.device, reason: 'health-failed' } });
      }
      await uninstall(projection.devices.get(r.device)!, r.baseline);
    }
    // Record the device's outcome in its rollouts at once: a failure past the budget halts before the next tick.
    for (const rollout of rolloutsOf(r.device)) {
      await reconcile(rollout, r.device);
      if (r.kind === 'apply-failed') await restartOntoUpdate(projection.rollouts.get(rollout.id)!, r.device);
      // A halt this report caused rolls back the whole ring; after that, each report brings its own device back.
      const latest = projection.rollouts.get(rollout.id)!;
      await rollBackIfHalted(latest, haltWatch.has(rollout.id) ? r.device : undefined);
    }
    return duplicate && written === 0 ? { status: 'duplicate' } : { status: 'recorded', events: written };
  };

  /**
   * A halted rollout's devices that hold its patch or may still come to (in flight): listed once at the halt and
   * narrowed as they settle, so that the ticks and reports after a halt do not scan everything it instructed.
   */
  const haltWatch = new Map<string, Set<string>>();
  /**
   * A halted rollout rolls back what its ring applied: live where the patch allows it, else a reboot. `only`: look
   * at that device alone (after its report), not at every device the halt is watching.
   */
  const rollBackIfHalted = async (rollout: RolloutRecord, only?: string): Promise<number> => {
    const s = rollout.state;
    if (s.value !== 'halted') return 0;
    const patch = s.context.release!;
    const action = s.context.releaseKind === 'baseline' ? 'reboot' : 'hotpatch';
    const watching = (key: string, which: 'hotpatch' | 'reboot') => {
      let watch = haltWatch.get(key);
      if (watch === undefined) {
        const ring = s.context.policies[s.context.current]?.name;
        watch = new Set();
        for (const [id, instruction] of rollout.instructed) {
          if (instruction.ring !== ring) continue;
          // The cumulative update is also on the ring's devices whose hotpatch did not take and that restarted onto
          // it (see restartOntoUpdate).
          if (instruction.action === which || (which === 'reboot' && didNotTake(id, patch))) watch.add(id);
        }
        haltWatch.set(key, watch);
      }
      return watch;
    };
    const watch = watching(rollout.id, action);
    if (action === 'reboot') return uninstallHalted(rollout, watch, patch, only);
    // The ring's devices that got the hotpatch's cumulative update instead (the same fix) have it taken off too.
    const planned = releaseOf(rollout);
    let n = planned === undefined ? 0 : await uninstallHalted(rollout, watching(`${rollout.id}\u0000reboot`, 'reboot'), cumulativeUpdateOf(planned), only);
    for (const id of only === undefined ? [...watch] : watch.has(only) ? [only] : []) {
      const device = projection.devices.get(id);
      const { value, context } = device?.state ?? { value: 'retired', context: null };
      const holds = (value === 'applied' && context?.inFlight?.patch === patch) || (value === 'verified' && context?.rollbackable?.patch === patch);
      // Staged or applying it, or rolling it back: it may hold it again (or fail its rollback) later. Otherwise it
      // is settled, and the halt stops watching it.
      if (!holds) {
        if (context?.inFlight?.patch !== patch) watch.delete(id);
        continue;
      }
      const done = s.context.liveRevert
        ? await command(`halt-rollback:${rollout.id}`, { type: 'RollBack', device: id, patch, reason: `rollout ${rollout.id} halted: ${s.context.haltReason}` })
        : await command(`halt-reboot:${rollout.id}`, { type: 'RequireReboot', device: id, reason: 'not-live-revertible' });
      if (done) n++;
    }
    return n;
  };

  /**
   * A halted rollout takes its cumulative update (a baseline, or a hotpatch's given instead of it) off the devices
   * of its ring that installed it (a restart back to the baseline it replaced); the ones still to restart onto it
   * are watched, and uninstalled once they have.
   */
  const uninstallHalted = async (rollout: RolloutRecord, watch: Set<string>, baseline: string, only?: string): Promise<number> => {
    let n = 0;
    for (const id of only === undefined ? [...watch] : watch.has(only) ? [only] : []) {
      const device = projection.devices.get(id);
      if (!device || device.state.value === 'retired') {
        watch.delete(id);
        continue;
      }
      const { value, context } = device.state;
      if (value === 'needsReboot') {
        // Restarting onto it (keep watching), or already on the way back from it (done).
        if (context.rebootBaseline !== baseline) watch.delete(id);
        continue;
      }
      watch.delete(id);
      if (context.baseline === baseline && (await uninstall(device, baseline))) n++;
    }
    return n;
  };

  /** Takes a cumulative update off a device: a restart back to the baseline it replaced (when that is known). */
  const uninstall = async (device: DeviceRecord, baseline: string): Promise<boolean> => {
    const back = device.previousBaseline;
    if (back === null || back === baseline || device.state.context.baseline !== baseline) return false;
    return command(`uninstall:${baseline}`, { type: 'RequireReboot', device: device.id, reason: 'update-uninstall', baseline: back });
  };

  /** Whether `patch` did not take on the device: its apply failed, or stalled and was timed out. */
  const didNotTake = (id: string, patch: string | null | undefined): boolean => patch != null && projection.devices.get(id)?.outcomes.get(patch) === 'apply-failed';
  /**
   * The release's cumulative update, with a restart, for a device its hotpatch did not take on: one command (one id)
   * whichever path gives it, so it is given once.
   */
  const giveUpdateInstead = (id: string, release: ReleaseToRoll): Promise<boolean> =>
    command(`remedy:${release.id}`, { type: 'RequireReboot', device: id, reason: 'hotpatch-failed', baseline: cumulativeUpdateOf(release) });
  /**
   * A device whose hotpatch did not take where it cannot be reverted live must restart anyway (the engine set it
   * to, back to its baseline). When an earlier ring has already proved the release, that one restart goes onto the
   * release's cumulative update instead of a second one later (see failedToApply in catchUp): the same command, so
   * either gives it once. In the first ring nothing has proved the release yet: the restart stays as it is.
   */
  const restartOntoUpdate = async (rollout: RolloutRecord, id: string): Promise<void> => {
    if (!remedyFailedHotpatches || rollout.state.value === 'halted') return;
    const planned = releaseOf(rollout);
    const instruction = rollout.instructed.get(id);
    const device = projection.devices.get(id);
    if (planned?.kind !== 'hotpatch' || instruction?.action !== 'hotpatch' || device === undefined) return;
    const { value, context } = device.state;
    if (value !== 'needsReboot' || context.rebootReason !== 'not-live-revertible' || context.rebootBaseline !== null || !didNotTake(id, planned.id)) return;
    const ring = rollout.state.context.policies.findIndex((p) => p.name === instruction.ring);
    if (ring <= 0 || !rollout.state.context.rings[ring - 1]?.gatePassed) return;
    // A paused ring receives nothing new: the device restarts onto its baseline, and catches up once resumed.
    if (projection.isRingPaused(device.ring)) return;
    await giveUpdateInstead(id, planned);
  };

  const tickRollout = async (rollout: RolloutRecord, summary: TickSummary) => {
    const t = now();
    let s: RolloutState = rollout.state;
    const release = releaseOf(rollout);
    if (s.value === 'betweenRings') {
      const next = s.context.policies[s.context.current + 1]!;
      const opens = ringOpensAt(s.context, s.context.current + 1);
      // A paused ring does not start (its deferral may pass meanwhile: it starts once resumed).
      if (opens !== null && t >= opens && !projection.isRingPaused(next.name)) {
        if (await record(rollout.id, `ring:${next.name}`, { type: 'RingStarted', data: { ring: next.name, at: t, devices: members(next.name).length } })) summary.ringsStarted++;
        s = projection.rollouts.get(rollout.id)!.state;
      }
    }
    if (s.value === 'rolling') {
      const ring = s.context.policies[s.context.current]!;
      const progress = s.context.rings[s.context.current]!;
      summary.outcomes += await reconcile(rollout);
      // Timeouts and silent agents among the devices in flight.
      for (const id of [...rollout.pending]) {
        const instruction = rollout.instructed.get(id)!;
        if (instruction.ring !== ring.name || rollout.outcomes.has(id)) continue;
        const device = projection.devices.get(id);
        if (!device) continue;
        if (applyTimedOut(device, t, policy)) {
          const patch = device.state.context.inFlight!.patch;
          if (await command(`timeout:${rollout.id}`, { type: 'ReportApplyFailed', device: id, patch, reason: applyTimeoutReason(policy.applyTimeoutMinutes) })) summary.timedOut++;
          if (await record(rollout.id, `outcome:${id}`, { type: 'DeviceFailed', data: { ring: ring.name, device: id, reason: 'timeout' } })) summary.outcomes++;
          await restartOntoUpdate(projection.rollouts.get(rollout.id)!, id);
        } else if (agentSilent(device, t, policy)) {
          if (await record(rollout.id, `outcome:${id}`, { type: 'DeviceSetAside', data: { ring: ring.name, device: id, reason: silenceReason(policy), instructed: true } })) summary.setAside++;
        }
      }
      s = projection.rollouts.get(rollout.id)!.state;
      // New instructions, while the ring has room, the rollout is still rolling and the ring is not paused (what
      // is in flight goes on: its reports, timeouts and silences are handled above).
      if (s.value === 'rolling' && release && !projection.isRingPaused(ring.name)) {
        let budget = policy.maxInstructionsPerTick ?? Number.POSITIVE_INFINITY;
        for (const device of candidates(rollout, ring.name)) {
          if (budget <= 0 || projection.rollouts.get(rollout.id)!.state.value !== 'rolling') break;
          if (rollout.instructed.has(device.id) || rollout.outcomes.has(device.id)) continue;
          const instructed = await instruct(rollout, ring.name, device, release);
          if (instructed) {
            summary.instructed++;
            budget--;
          } else if (agentSilent(device, t, policy)) {
            // Busy (a patch or a reboot pending) and not heard of for too long: its agent is silent. It is set
            // aside before it was ever instructed, so that the ring can finish without it.
            if (await record(rollout.id, `outcome:${device.id}`, { type: 'DeviceSetAside', data: { ring: ring.name, device: device.id, reason: silenceReason(policy), instructed: false } })) summary.setAside++;
          }
        }
      }
      s = projection.rollouts.get(rollout.id)!.state;
      if (s.value === 'rolling') {
        const gate: RolloutEventBody = { type: 'GatePassed', data: { ring: ring.name, at: t } };
        if (rolloutLifecycle.step(s, gate)) {
          if (await record(rollout.id, `gate:${ring.name}`, gate)) summary.gatesPassed++;
        } else if (progress.startedAt !== null && Date.parse(t) - projection.pausedMs(rollout, ring.name, progress.startedAt, t) >= Date.parse(addDays(progress.startedAt, ring.deadlineDays))) {
          // The deadline does not run while the rollout or the ring is paused: a pause is someone's decision, not the
          // ring failing.
          if (await record(rollout.id, `deadline:${ring.name}`, { type: 'RolloutHalted', data: { reason: `${ring.name}: gate not passed by its deadline`, at: t } })) summary.halted++;
        }
      }
    }
    const latest = projection.rollouts.get(rollout.id)!;
    if (latest.state.value === 'halted') summary.rollbacks += await rollBackIfHalted(latest);
  };

  /** Instructs one device: the hotpatch where it can take it, otherwise the traditional update with a restart. */
  const instruct = async (rollout: RolloutRecord, ring: string, device: DeviceRecord, release: ReleaseToRoll): Promise<boolean> => {
    const { value, context } = device.state;
    const resting = RESTING_STATES.includes(value);
    let action: 'hotpatch' | 'reboot';
    if (release.kind === 'baseline') {
      if (!resting && value !== 'ineligible' && value !== 'enrolled') return false;
      await command(`reboot:${rollout.id}`, { type: 'RequireReboot', device: device.id, reason: release.rebootReason ?? 'baseline', baseline: release.baseline });
      action = 'reboot';
    } else if (resting && context.eligible && context.baseline === release.baseline) {
      if (release.id in context.applied) return false;
      const staged = await command(`stage:${rollout.id}`, { type: 'StagePatch', device: device.id, hotpatch: { id: release.id, baseline: release.baseline, requires: release.requires ?? [], liveRevert: release.liveRevert } });
      if (!staged && projection.devices.get(device.id)!.state.value !== 'staged') return false;
      await command(`apply:${rollout.id}`, { type: 'StartApply', device: device.id, patch: release.id });
      action = 'hotpatch';
    } else if (value === 'ineligible' || (resting && (!context.eligible || context.baseline !== release.baseline))) {
      // Not eligible, or not on the hotpatch's baseline: the release's cumulative update, with a restart, instead
      // (none when the device already runs one as new: caught up, say).
      const installedAt = installedReleasedAt(context);
      if (installedAt !== null && installedAt >= release.releasedAt) return false;
      await command(`reboot:${rollout.id}`, { type: 'RequireReboot', device: device.id, reason: 'eligibility', baseline: cumulativeUpdateOf(release) });
      action = 'reboot';
    } else {
      return false; // busy (a patch in flight or a reboot pending): next tick
    }
    return record(rollout.id, `instructed:${device.id}`, { type: 'DeviceInstructed', data: { ring, device: device.id, action } });
  };

  /**
   * Devices to look at for catching up: each device once when this instance starts (or rebuilds its projection),
   * then each device as it enrols; a device leaves the set once nothing is left for it to catch up with.
   */
  const behind = new Set<string>();
  let examinedAll = false;
  /** The (rollout, ring) turns seen over: their rings' members the rollout never reached are looked at once. */
  const turnsOver = new Set<string>();
  const resting = (value: DeviceStateValue) => RESTING_STATES.includes(value);
  const byRelease = (a: ReleaseToRoll, b: ReleaseToRoll) => (a.releasedAt < b.releasedAt ? -1 : a.releasedAt > b.releasedAt ? 1 : 0);

  /** Whether a device whose hotpatch did not take gets the release's cumulative update (FleetPolicy.afterFailedHotpatch). */
  const remedyFailedHotpatches = (policy.afterFailedHotpatch ?? 'cumulative-update') === 'cumulative-update';
  /**
   * A rollout instructs the members of a ring while it is that ring's turn (members who join during the turn
   * included). A device that joins a ring after the turn, or after the rollout completed, or that the turn set
   * aside before asking it (silent while busy), would wait for the next release: here it is given what those
   * rollouts proved in its ring instead, one step per tick, as the rollout would have done it. Behind on its
   * baseline: the newest baseline whose rollout passed the ring's gate, with a restart. Ineligible on it (a device
   * behind is): assessed again against it. Eligible on it: the hotpatches of that baseline whose rollouts passed,
   * oldest first (each needs the ones it requires), staged and applied. A halted rollout's release is never caught
   * up with, a paused one's only once it resumes; each step happens once per device and release (a patch that
   * failed on the device is not tried again: the engine rolled it back, or set it to restart); a device still
   * ineligible waits for the next rollout's cumulative update. A catch-up apply that stalls is timed out like a
   * rollout's. A member the turn asked and whose hotpatch did not take (apply failed or timed out) is looked at
   * too, once the turn is over: it gets the release's cumulative update instead (see failedToApply). Nothing is
   * recorded in the rollouts: their counts and gates are about their turns.
   */
  const catchUp = async (summary: TickSummary) => {
    if (!examinedAll) {
      examinedAll = true;
      for (const id of projection.devices.keys()) behind.add(id);
    }
    for (const id of projection.enrolled) behind.add(id);
    projection.enrolled.clear();
    // The turns over: each ring whose gate a rollout (not halted) passed. A paused rollout's are held back, and the
    // devices of those rings kept in view until it resumes (or halts).
    const turns: Array<{ ring: string; release: ReleaseToRoll; rollout: RolloutRecord; paused: boolean }> = [];
    for (const rollout of projection.rollouts.values()) {
      const { value, context } = rollout.state;
      const release = releaseOf(rollout);
      if (release === undefined || (value !== 'completed' && value !== 'rolling' && value !== 'betweenRings' && value !== 'paused')) continue;
      context.policies.forEach((ring, i) => {
        if (value === 'completed' || context.rings[i]?.gatePassed) turns.push({ ring: ring.name, release, rollout, paused: value === 'paused' });
      });
    }
    // A turn just over: the members it never asked (set aside, silent while busy) are behind like a device that
    // joined after it, and looked at the same way (an instance that starts looks at them too).
    for (const { ring, rollout } of turns) {
      const turn = `${rollout.id}\u0000${ring}`;
      if (turnsOver.has(turn)) continue;
      turnsOver.add(turn);
      const patch = rollout.state.context.release;
      for (const id of projection.ringMembers.get(ring) ?? []) {
        // Not asked by the turn, or asked and its hotpatch did not take (see failedToApply below).
        if (!rollout.instructed.has(id) || (remedyFailedHotpatches && rollout.outcomes.get(id) === 'failed' && didNotTake(id, patch))) behind.add(id);
      }
    }
    if (behind.size === 0) return;
    // What each ring has passed, oldest release first.
    const passed = new Map<string, Array<{ release: ReleaseToRoll; rollout: RolloutRecord }>>();
    const heldBack = new Set<string>();
    for (const { ring, release, rollout, paused } of turns) {
      if (paused) {
        heldBack.add(ring);
        continue;
      }
      let list = passed.get(ring);
      if (list === undefined) passed.set(ring, (list = []));
      list.push({ release, rollout });
    }
    for (const list of passed.values()) list.sort((a, b) => byRelease(a.release, b.release));
    const t = now();
    for (const id of [...behind]) {
      const device = projection.devices.get(id);
      if (device === undefined || device.state.value === 'retired') {
        behind.delete(id);
        continue;
      }
      const { value, context } = device.state;
      // Nothing in flight and no restart pending: a restart may be asked of it.
      const restartable = resting(value) || value === 'ineligible' || value === 'enrolled';
      if (value === 'applying' && applyTimedOut(device, t, policy)) {
        // A rollout times out its own devices (on its ring's turn); a catch-up apply is timed out here.
        if (![...projection.rollouts.values()].some((r) => r.pending.has(id))) {
          const patch = context.inFlight!.patch;
          if (await command(`catch-up-timeout:${patch}`, { type: 'ReportApplyFailed', device: id, patch, reason: applyTimeoutReason(policy.applyTimeoutMinutes) })) summary.timedOut++;
        }
        continue;
      }
      // A paused ring receives nothing new: the device stays in view, and is caught up once its ring resumes.
      if (projection.isRingPaused(device.ring)) continue;
      // What the rollouts proved in its ring and never asked of this device: what they asked is theirs to see
      // through (a failure, an uninstall, a device set aside in flight); a device they set aside before asking it
      // (its agent silent while it was busy) is caught up once it is back.
      const proven = (passed.get(device.ring) ?? []).filter(({ rollout }) => !rollout.instructed.has(id) && rollout.outcomes.get(id) !== 'failed').map(({ release }) => release);
      const baseline = proven.filter((r) => r.kind === 'baseline').at(-1);
      // Behind on its baseline (what it runs, a baseline or a cumulative update, shipped before the newest proven
      // baseline, or is not known).
      const installedAt = installedReleasedAt(context);
      if (baseline !== undefined && context.baseline !== baseline.baseline && (installedAt === null || installedAt < baseline.releasedAt)) {
        if (restartable) {
          // Once per device and baseline (the command's id says which): a device that came back unwell on it
          // and was taken off it again is not restarted onto it a second time.
          if (await command(`catch-up:${baseline.id}`, { type: 'RequireReboot', device: id, reason: baseline.rebootReason ?? 'baseline', baseline: baseline.baseline })) summary.caughtUp++;
          // Asked before: by another instance (the device is restarting onto it: carry on from there), or long
          // ago, and the device is not on it (it was taken off it): leave it.
          else if (projection.devices.get(id)!.state.value !== 'needsReboot') behind.delete(id);
        }
        continue; // busy, or restarting onto it: looked at again next tick
      }
      // A hotpatch its ring proved that did not take here (the apply failed, or stalled and was timed out; the
      // engine rolled it back, or restarted the device): that release's cumulative update, with a restart, as
      // Windows Update falls back to the LCU when a hotpatch fails to install; once per device and release, and
      // only while nothing newer covers the device. A hotpatch that made the device unwell is not followed by the
      // same fix in another form: a person looks at that device.
      const failedToApply = !remedyFailedHotpatches ? undefined : (passed.get(device.ring) ?? []).filter(({ release }) => release.kind === 'hotpatch' && didNotTake(id, release.id)).at(-1)?.release;
      if (failedToApply !== undefined && (device.protectedUpTo === null || device.protectedUpTo < failedToApply.releasedAt) && !(failedToApply.id in context.applied)) {
        if (!restartable) continue; // still rolling back or restarting: next tick
        if (await giveUpdateInstead(id, failedToApply)) {
          summary.caughtUp++;
          continue;
        }
        if (projection.devices.get(id)!.state.value === 'needsReboot') continue;
      }
      if (value === 'ineligible' || value === 'enrolled' || !context.eligible || (baseline !== undefined && context.baseline !== baseline.baseline)) {
        // Ineligible (or never assessed) on the newest proven baseline: assessed again against it, once (a device
        // behind on its baseline is not eligible for hotpatches; on it, it may well be).
        const latest = baseline?.baseline ?? null;
        if (latest !== null && context.baseline === latest && context.profile !== null && (value === 'ineligible' || value === 'enrolled')) {
          if (await command(`catch-up-assess:${latest}`, { type: 'AssessEligibility', device: id, latestBaseline: latest })) {
            summary.caughtUp++;
            continue;
          }
          // Assessed before, by another instance: eligible now, so carry on from there.
          if (projection.devices.get(id)!.state.context.eligible) continue;
        }
        // Still unable to take hotpatches (or on a cumulative update, off the hotpatches' baseline): the newest
        // proven hotpatch's cumulative update, with a restart, when it is newer than what the device runs; once.
        const update = proven.filter((r) => r.kind === 'hotpatch').at(-1);
        if (update !== undefined && context.profile !== null && (installedAt === null || installedAt < update.releasedAt) && restartable) {
          if (await command(`catch-up:${update.id}`, { type: 'RequireReboot', device: id, reason: 'eligibility', baseline: cumulativeUpdateOf(update) })) {
            summary.caughtUp++;
            continue;
          }
          if (projection.devices.get(id)!.state.value === 'needsReboot') continue;
        }
        if (!heldBack.has(device.ring) && restartable) behind.delete(id);
        continue;
      }
      const next = proven.find(
        (r) =>
          r.kind === 'hotpatch' &&
          r.baseline === context.baseline &&
          !(r.id in context.applied) &&
          (r.requires ?? []).every((q) => q in context.applied),
      );
      if (next === undefined) {
        // Nothing left to catch up with, once nothing is in flight or pending (and no paused rollout may add to it).
        if (resting(value) && !heldBack.has(device.ring)) behind.delete(id);
        continue;
      }
      if (!resting(value)) continue;
      const staged = await command(`catch-up-stage:${next.id}`, { type: 'StagePatch', device: id, hotpatch: { id: next.id, baseline: next.baseline, requires: next.requires ?? [], liveRevert: next.liveRevert } });
      const after = projection.devices.get(id)!.state;
      if (!staged && after.value !== 'staged') {
        // Tried before (once per device and patch): by another instance (in flight or applied since: carry on from
        // there), or long ago, and it failed: leave it.
        if (resting(after.value) || after.value === 'ineligible') behind.delete(id);
        continue;
      }
      if (await command(`catch-up-apply:${next.id}`, { type: 'StartApply', device: id, patch: next.id })) summary.caughtUp++;
    }
  };

  const tick = (): Promise<TickSummary> => unit(tickNow);
  const tickNow = async (): Promise<TickSummary> => {
    await sync();
    const summary: TickSummary = { ringsStarted: 0, instructed: 0, outcomes: 0, timedOut: 0, setAside: 0, gatesPassed: 0, halted: 0, rollbacks: 0, caughtUp: 0 };
    for (const rollout of [...projection.rollouts.values()]) await tickRollout(rollout, summary);
    await catchUp(summary);
    return summary;
  };

  /** The rings a pause may name: the policy's, and those devices were enrolled into. */
  const knownRing = (ring: string) => policy.rings.some((r) => r.name === ring) || projection.ringMembers.has(ring);
  /** A pause's or resume's command, the rollout's or the ring's, decided on the projection (the lifecycle's refusal thrown as it is). */
  const changeState = async (command: RolloutCommand | RingCommand, known: Known<RolloutState> | Known<RingState>) => {
    try {
      await engine.execute(command, { known });
    } catch (error) {
      throw error instanceof CommandRefusedError && error.refusal !== undefined ? error.refusal : error;
    }
    await sync();
  };

  const changeRingPause = async (ring: string, event: RingEventBody, id: string | undefined) => {
    await sync();
    if (!knownRing(ring)) throw new UnknownRingError(ring, policy.rings.map((r) => r.name));
    const held = projection.ringPauses.get(ring);
    await changeState({ ring, ...(id !== undefined ? { id } : {}), event }, held !== undefined ? { state: held.state, version: held.version } : { state: ringLifecycle.initial as RingState, version: 0 });
  };

  const changePause = async (rollout: string, event: RolloutEventBody, id: string | undefined) => {
    await sync();
    if (!projection.rollouts.has(rollout)) throw new UnknownRolloutError(rollout);
    await changeState({ rollout, ...(id !== undefined ? { id } : {}), event }, knownRollout(rollout));
  };

  return {
    projection,
    engine,
    sync,
    saveCheckpoint: async () => {
      await sync();
      return saveCheckpoint();
    },
    planRollout,
    report,
    tick,
    pause: (rollout, by, reason, id) => changePause(rollout, { type: 'RolloutPaused', data: { by, reason } }, id),
    resume: (rollout, by, id) => changePause(rollout, { type: 'RolloutResumed', data: { by } }, id),
    pauseRing: (ring, by, reason, id) => changeRingPause(ring, { type: 'RingPaused', data: { by, reason } }, id),
    resumeRing: (ring, by, id) => changeRingPause(ring, { type: 'RingResumed', data: { by } }, id),
  };
}

export class UnknownRingError extends HotpatchError {
  readonly code = 'UNKNOWN_RING';
  constructor(
    readonly ring: string,
    readonly known: readonly string[],
  ) {
    super(`no ring ${ring} in the policy or the fleet (the policy's rings: ${known.join(', ')})`);
  }
}

export class UnknownRolloutError extends HotpatchError {
  readonly code = 'UNKNOWN_ROLLOUT';
  constructor(readonly rollout: string) {
    super(`no rollout ${rollout}`);
  }
}
