import type { Random } from '@hotpatch/core';

/**
 * The share of a release's devices that fail their health check, from what a log saw: verdicts (failed or
 * healthy, each after so long on the patch) and devices it stopped watching before their verdict came (rolled
 * back at a halt, restarted, or still soaking at the log's end), each after so long. A plain share of the verdicts
 * overstates failures where a rollout halted: the failures that came first are all in, and the devices still
 * soaking are not. This is the Aalen–Johansen estimate of the cumulative incidence of failure, with healthy
 * verdicts as the competing outcome: at each time a verdict came, the devices still waiting (not yet answered,
 * not yet unwatched) are the ones at risk. Beyond the longest time the log watched, nothing is known: a device
 * still waiting then counts as not failing (so the estimate leans low when the log stopped watching early).
 */
export function failureShare(verdicts: ReadonlyArray<{ readonly healthy: boolean; readonly after: number }>, censored: readonly number[]): number {
  // Verdicts before unwatched devices at equal times (a device unwatched at t was still at risk at t).
  const times = [...verdicts.map((v) => [v.after, v.healthy ? 1 : 0] as const), ...censored.map((c) => [c, 2] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let atRisk = times.length;
  let waiting = 1;
  let failed = 0;
  for (let i = 0; i < times.length; ) {
    const t = times[i]![0];
    let fail = 0;
    let ok = 0;
    let gone = 0;
    for (; i < times.length && times[i]![0] === t; i++) {
      const kind = times[i]![1];
      if (kind === 0) fail++;
      else if (kind === 1) ok++;
      else gone++;
    }
    if (fail + ok > 0) {
      failed += (waiting * fail) / atRisk;
      waiting *= 1 - (fail + ok) / atRisk;
    }
    atRisk -= fail + ok + gone;
  }
  return failed;
}

/**
 * How far `failureShare` can be trusted: a percentile bootstrap interval. The devices (each with its verdict, or
 * the time it was unwatched) are drawn again with replacement, `resamples` times, and the share computed for each
 * draw; the interval holds the middle `level` of those shares. Deterministic for a generator's seed. Few verdicts
 * give a wide interval, which is the point: the what-if's draws come from the point estimate, and the interval
 * says how much another log of the same fleet could have moved it.
 */
export function failureShareInterval(
  verdicts: ReadonlyArray<{ readonly healthy: boolean; readonly after: number }>,
  censored: readonly number[],
  random: Random,
  options: { readonly resamples?: number; readonly level?: number } = {},
): readonly [low: number, high: number] {
  const resamples = options.resamples ?? 400;
  const level = options.level ?? 0.9;
  const n = verdicts.length + censored.length;
  if (n === 0) return [0, 0];
  const shares: number[] = [];
  const v: Array<{ healthy: boolean; after: number }> = [];
  const c: number[] = [];
  for (let r = 0; r < resamples; r++) {
    v.length = 0;
    c.length = 0;
    for (let k = 0; k < n; k++) {
      const i = random.int(0, n - 1);
      if (i < verdicts.length) v.push(verdicts[i]!);
      else c.push(censored[i - verdicts.length]!);
    }
    shares.push(failureShare(v, c));
  }
  shares.sort((a, b) => a - b);
  const at = (q: number) => shares[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!;
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}
