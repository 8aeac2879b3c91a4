/** The plan decision: a release's rollout through the policy's rings, recorded once with the whole release. */
import { Decision, type Decided, type DecisionInput } from './decision.js';
import { cumulativeUpdateOf, type ReleaseToRoll } from './release.js';

/** Plans the release's rollout unless the log has it already (planned by this instance or another). */
export function decidePlan(input: DecisionInput, release: ReleaseToRoll): Decided<string> {
  const d = new Decision(input);
  if (d.fleet.rollout(release.id) === undefined) {
    d.record(release.id, 'planned', {
      type: 'RolloutPlanned',
      data: {
        release: release.id,
        releaseKind: release.kind,
        releasedAt: release.releasedAt,
        liveRevert: release.liveRevert,
        outOfBand: release.outOfBand ?? false,
        rings: d.policy.rings,
        baseline: release.baseline,
        ...(release.kind === 'hotpatch' ? { requires: release.requires ?? [], cumulativeUpdate: cumulativeUpdateOf(release) } : { rebootReason: release.rebootReason ?? 'baseline' }),
        ...(release.deferralsFrom !== undefined && release.deferralsFrom < release.releasedAt ? { deferralsFrom: release.deferralsFrom } : {}),
      },
    });
  }
  return d.done(release.id);
}
