/** The id rule (core's stream-id.ts) where the orchestrator takes ids from outside: reports, the policy's rings, a release. */
import { describe, expect, it } from 'vitest';
import { InvalidIdError } from '@hotpatch/core';
import { createInMemoryEventStore } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { PolicyError } from '../policy.js';
import type { AgentReport } from './api.js';
import { InvalidReportError } from './report-schema.js';
import { createOrchestrator } from './shell.js';
import { HOTPATCH, POLICY, RELEASED } from './testing/given.js';

const RULE = /expected a non-empty string of at most 200 characters, none of them a control character \(C0, DEL, C1\), a Unicode bidirectional control or a lone surrogate/;

describe('ids that break the id rule, refused before anything is written', () => {
  it('a report’s device, a policy’s ring, a release’s id', async () => {
    const store = createInMemoryEventStore();
    const clock = simulatedClock(RELEASED);
    const o = createOrchestrator({ store, clock, policy: POLICY });
    for (const device of ['p\ud800', 'p\u0000', 'p\u202e1', 'p'.repeat(201)]) {
      const error = await o.report({ id: '0193f2a0-0000-7000-8000-000000000001', device, kind: 'applied', patch: HOTPATCH.id } as AgentReport).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidReportError);
      expect(error).toMatchObject({ path: 'device' });
      expect((error as Error).message).toMatch(RULE);
    }
    expect(() => createOrchestrator({ store, clock, policy: { ...POLICY, rings: [{ ...POLICY.rings[0]!, name: 'pi\u2067lot' }] } })).toThrow(PolicyError);
    const planned = await o.planRollout({ ...HOTPATCH, id: 'HP-\udfff' }).catch((e: unknown) => e);
    // Its rollout's stream is the release's id: the store refuses it before writing.
    expect(planned).toBeInstanceOf(InvalidIdError);
    expect(planned).toMatchObject({ kind: 'rollout', id: 'HP-\udfff', problem: 'holds a lone surrogate (U+DFFF) at character 4' });
    expect(await store.readAll()).toEqual([]);
  });
});
