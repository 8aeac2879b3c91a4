/** The plan decision: a release's rollout through the policy's rings, recorded once with the whole release. */
import { canonicalJson } from '@hotpatch/store';
import type { RolloutEventData } from '@hotpatch/core';
import { ReleaseConflictError } from './api.js';
import { Decision, type Decided, type DecisionInput } from './decision.js';
import { cumulativeUpdateOf, releaseFromPlan, type ReleaseToRoll } from './release.js';

/** The plan a release's rollout records through the policy's rings. */
export function planOf(release: ReleaseToRoll, rings: RolloutEventData['RolloutPlanned']['rings']): RolloutEventData['RolloutPlanned'] {
  return {
    release: release.id,
    releaseKind: release.kind,
    releasedAt: release.releasedAt,
    liveRevert: release.liveRevert,
    outOfBand: release.outOfBand ?? false,
    rings,
    baseline: release.baseline,
    ...(release.kind === 'hotpatch' ? { requires: release.requires ?? [], cumulativeUpdate: cumulativeUpdateOf(release) } : { rebootReason: release.rebootReason ?? 'baseline' }),
    ...(release.deferralsFrom !== undefined && release.deferralsFrom < release.releasedAt ? { deferralsFrom: release.deferralsFrom } : {}),
  };
}

/**
 * Plans the release's rollout unless the log has it already (planned by this instance or another). A rollout
 * planned with another release is refused (ReleaseConflictError): the log's plan is what every instance follows.
 * The rings are the planning instance's policy's, not the release's: not compared.
 */
export function decidePlan(input: DecisionInput, release: ReleaseToRoll): Decided<string> {
  const d = new Decision(input);
  const plan = planOf(release, d.policy.rings);
  const held = d.fleet.rollout(release.id);
  if (held === undefined) d.record(release.id, 'planned', { type: 'RolloutPlanned', data: plan }, { releasedAt: release.releasedAt });
  else if (held.plan !== null) {
    // As the log's plan gives it back, so that defaults and plans of older formats compare as what they mean.
    const logged = releaseFromPlan(held.plan, { baseline: release.baseline, requires: release.requires ?? [] })!;
    const sent = releaseFromPlan(plan)!;
    const field = (Object.keys({ ...logged, ...sent }) as (keyof ReleaseToRoll)[]).sort().find((k) => canonicalJson(logged[k]) !== canonicalJson(sent[k]));
    if (field !== undefined) throw new ReleaseConflictError(release.id, field, logged[field], sent[field]);
  }
  return d.done(release.id);
}
