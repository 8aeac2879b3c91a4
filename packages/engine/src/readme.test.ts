/** The README's embedding example, run as it is written (on a temporary database). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CommandRefusedError } from '@hotpatch/core';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { createEngine } from './index.js';

it('the README example works as written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotpatch-readme-'));
  try {
    const store = openSqliteEventStore({ path: join(dir, 'fleet.db') });
    const engine = createEngine({ store });

    await engine.execute({
      type: 'EnrolDevice',
      device: 'laptop-0042',
      profile: { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false },
      ring: 'pilot',
      baseline: 'B-2026-01',
    });
    await engine.execute({ type: 'AssessEligibility', device: 'laptop-0042', latestBaseline: 'B-2026-01' });
    const { state } = await engine.execute({ type: 'StagePatch', device: 'laptop-0042', hotpatch: { id: 'HP-2026-02', baseline: 'B-2026-01', requires: [], liveRevert: true } });
    expect(state.value).toBe('staged');
    await expect(engine.execute({ type: 'ReportApplied', device: 'laptop-0042', patch: 'HP-2026-02' })).rejects.toBeInstanceOf(CommandRefusedError);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
