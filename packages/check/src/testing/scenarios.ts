/** Scenarios the check package's tests share (test-only: not built nor published). */
import type { Scenario } from '../scenario.js';

/** Two baselines, a hotpatch and one that requires it (not revertible live), a restart onto the second baseline. */
export const SMALL_SCENARIO: Scenario = {
  name: 'small',
  enrolledOn: 'B1',
  baselines: ['B1', 'B2'],
  hotpatches: [
    { id: 'H1', baseline: 'B1', liveRevert: true },
    { id: 'H2', baseline: 'B1', requires: ['H1'], liveRevert: false },
  ],
  reboots: [{ reason: 'baseline', baseline: 'B2' }],
};
