// The recorded log as an agent's answers: each device as it did; a step the log never shows for it, from what the
// release did on other devices (see Unrecorded), or the ordinary outcome.
import { seededRandom } from '@hotpatch/core';
import type { AnswerSource, Delivery, HealthAnswer, RestartAnswer } from '../agent.js';
import { ordinaryAnswers } from '../scripted-answers.js';
import { failureShare, failureShareInterval } from './estimate.js';
import { restartKey, type Answers, type Observed } from './observe.js';

export type Unrecorded = 'estimate' | 'other-devices' | 'ordinary';
export const UNRECORDED: readonly Unrecorded[] = ['estimate', 'other-devices', 'ordinary'];

const UNWELL = 'unwell on the update (as recorded)';

/** A 32-bit seed from a text (FNV-1a). */
const hashSeed = (text: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/** A release's health as estimated from the log ('estimate'), once, when first needed. */
interface Estimate {
  readonly share: number;
  readonly interval: readonly [number, number];
  readonly failed: HealthAnswer[];
  readonly healthy: HealthAnswer[];
  readonly censored: number;
}

/**
 * The answers, how many of each kind were given (`counts`) and the releases' estimated health; draws with `seed`.
 * Reports from a device whose agent the log shows silent from some moment on are lost from then (`delivery`).
 */
export function recordedAnswers(o: Observed, options: { readonly unrecorded: Unrecorded; readonly seed: number; readonly reportId: AnswerSource['reportId'] }) {
  const { unrecorded, seed } = options;
  const random = seededRandom(seed);
  const counts = { recorded: 0, fromOtherDevices: 0, estimated: 0, ordinary: 0 };
  const answer = <T>(kind: Answers<T>, device: string, key: string, ordinary: T): T => {
    const own = kind.own(device, key);
    if (own !== undefined) {
      counts.recorded++;
      return own;
    }
    const others = unrecorded === 'ordinary' ? undefined : kind.others(key);
    if (others !== undefined && others.length > 0) {
      counts.fromOtherDevices++;
      return others[random.int(0, others.length - 1)]!;
    }
    counts.ordinary++;
    return ordinary;
  };

  const estimates = new Map<string, Estimate>();
  const estimateOf = (patch: string): Estimate => {
    let estimate = estimates.get(patch);
    if (estimate === undefined) {
      const verdicts = o.health.others(patch) ?? [];
      const censored = o.healthCensored.get(patch) ?? [];
      estimate = {
        share: failureShare(verdicts, censored),
        // Its own generator (seeded from the what-if's seed and the release), so that the answers' draws are not moved.
        interval: failureShareInterval(verdicts, censored, seededRandom(hashSeed(`${seed}|${patch}`))),
        failed: verdicts.filter((v) => !v.healthy),
        healthy: verdicts.filter((v) => v.healthy),
        censored: censored.length,
      };
      estimates.set(patch, estimate);
    }
    return estimate;
  };
  const health = (device: string, patch: string, ordinary: HealthAnswer): HealthAnswer => {
    if (unrecorded !== 'estimate') return answer(o.health, device, patch, ordinary);
    const own = o.health.own(device, patch);
    if (own !== undefined) {
      counts.recorded++;
      return own;
    }
    const estimate = estimateOf(patch);
    if (estimate.failed.length + estimate.healthy.length === 0) {
      counts.ordinary++;
      return ordinary;
    }
    counts.estimated++;
    const pool = random.chance(estimate.share) ? estimate.failed : estimate.healthy;
    // A release the log saw only fail (its healthy devices all unwatched): a healthy verdict at the ordinary time.
    return pool.length > 0 ? pool[random.int(0, pool.length - 1)]! : ordinary;
  };

  const answers: AnswerSource = {
    apply: (d, patch) => answer(o.apply, d.id, patch, ordinaryAnswers.apply(d, patch)),
    health: (d, patch) => health(d.id, patch, ordinaryAnswers.health(d, patch)),
    rollback: (d, patch) => answer(o.rollback, d.id, patch, ordinaryAnswers.rollback(d, patch)),
    restart: (d, baseline, reason) => ({ ...answer<RestartAnswer>(o.restart, d.id, restartKey(baseline, reason), ordinaryAnswers.restart(d, baseline, reason)), signal: UNWELL }),
    reportId: options.reportId,
  };
  const delivery: Delivery = (d, at, report, send) => {
    const silent = o.silentFrom.get(d.id);
    if (silent === undefined || at < silent) send(at, report);
  };
  return {
    answers,
    delivery,
    counts,
    /** The releases whose health was estimated from verdicts the log holds. */
    estimates: () =>
      [...estimates]
        .filter(([, e]) => e.failed.length + e.healthy.length > 0)
        .map(([release, e]) => ({ release, verdicts: e.failed.length + e.healthy.length, failed: e.failed.length, censored: e.censored, failureShare: e.share, interval: e.interval })),
  };
}
