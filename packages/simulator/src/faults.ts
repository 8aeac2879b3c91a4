import type { Random } from '@hotpatch/core';
import type { AnswerSource, Delivery } from './agent.js';

/** The faults a simulation injects, as probabilities; the same seed draws the same ones. */
export interface Faults {
  /** An apply fails outright. */
  readonly applyFailure: number;
  /** An apply never finishes (a stalled transition): the orchestrator must time it out. */
  readonly stalledApply: number;
  /** Health-check failure rate for every hotpatch but the bad one. */
  readonly healthFailure: number;
  /** Which hotpatch (by index among the simulation's hotpatches) is bad, and how often its health check fails. */
  readonly badHotpatchIndex: number;
  readonly badHotpatchHealthFailure: number;
  /** A live rollback fails (a reboot follows). */
  readonly rollbackFailure: number;
  /** Share of agents that go silent at some moment of the simulation. */
  readonly silentAgents: number;
  /**
   * How long a silent agent stays silent, in days, drawn between the two (a laptop shut for a holiday, a device
   * off the network); then it is back and reports what its device does from then on. Absent: silent for good.
   */
  readonly silentDays?: readonly [min: number, max: number];
  /** A report is sent twice (same id). */
  readonly duplicatedReport: number;
  /** A report arrives hours late. */
  readonly lateReport: number;
  /** A health report overtakes its apply report. */
  readonly reorderedReport: number;
}

export const DEFAULT_FAULTS: Faults = {
  applyFailure: 0.01,
  stalledApply: 0.004,
  healthFailure: 0.003,
  badHotpatchIndex: 1,
  badHotpatchHealthFailure: 0.3,
  rollbackFailure: 0.03,
  silentAgents: 0.005,
  silentDays: [1, 28],
  duplicatedReport: 0.02,
  lateReport: 0.01,
  reorderedReport: 0.02,
};

const MINUTE = 60_000;
const HOUR = 3_600_000;
const SIGNAL = 'crash rate above baseline';

/**
 * The faults as an agent's answers, drawn from `random` in the order the agent asks (the same seed, the same log).
 * `badHotpatch` is unwell as often as the faults say, and so is `badUpdate`, its cumulative update (the same fix).
 */
export function faultAnswers(options: {
  readonly faults: Faults;
  readonly random: Random;
  /** Draws the health of restarts apart, so that it does not move the other answers' draws. */
  readonly updateRandom: Random;
  readonly badHotpatch: string | undefined;
  readonly badUpdate: string | undefined;
  readonly reportId: AnswerSource['reportId'];
}): AnswerSource {
  const { faults, random, updateRandom } = options;
  const healthy = (patch: string) => !random.chance(patch === options.badHotpatch ? faults.badHotpatchHealthFailure : faults.healthFailure);
  return {
    apply(_, patch) {
      if (random.chance(faults.stalledApply)) return { kind: 'stalled' };
      const after = random.int(2, 10) * MINUTE;
      if (random.chance(faults.applyFailure)) return { kind: 'apply-failed', after, reason: 'transition did not converge' };
      if (random.chance(faults.reorderedReport)) return { kind: 'applied', after: after + 20 * MINUTE, healthFirst: { healthy: healthy(patch), after: after + 5 * MINUTE, signal: SIGNAL } };
      return { kind: 'applied', after };
    },
    health(_, patch) {
      const ok = healthy(patch);
      return { healthy: ok, after: random.int(1, 4) * HOUR, signal: SIGNAL };
    },
    rollback() {
      const after = random.int(2, 10) * MINUTE;
      return random.chance(faults.rollbackFailure) ? { ok: false, after, reason: 'patched function still on a stack' } : { ok: true, after, reason: '' };
    },
    // Users restart within a day; the restart and the update take 15 to 35 minutes. A cumulative update can leave
    // the device unwell, as a hotpatch can. Going back to the update before is well (the agent says so): no draw.
    restart(_, baseline, reason) {
      const downtimeMinutes = random.int(15, 35);
      const ok = reason === 'update-uninstall' || !updateRandom.chance(baseline === options.badUpdate ? faults.badHotpatchHealthFailure : faults.healthFailure);
      return { after: random.int(1, 24) * HOUR, downtimeMinutes, healthy: ok, signal: SIGNAL };
    },
    reportId: options.reportId,
  };
}

/**
 * Reports as the faults deliver them: lost while the device's agent is silent (between `silentFrom` and
 * `silentUntil`, or for good), some hours late, some twice.
 */
export function faultDelivery(options: {
  readonly faults: Faults;
  readonly random: Random;
  readonly silentFrom: ReadonlyMap<string, number>;
  readonly silentUntil: ReadonlyMap<string, number>;
}): Delivery {
  const { faults, random } = options;
  return (device, at, report, send) => {
    const silent = options.silentFrom.get(device.id);
    // Lost (the agent sends it again only if the device still has something to say when it is back).
    if (silent !== undefined && at >= silent && at < (options.silentUntil.get(device.id) ?? Infinity)) return;
    const late = random.chance(faults.lateReport) ? 6 * HOUR : 0;
    send(at + late, report);
    if (random.chance(faults.duplicatedReport)) send(at + late + MINUTE, report);
  };
}
