/**
 * A fleet ready for the server bench, written with the library: N devices enrolled in one ring (`all`, a budget of
 * 100%: no halt), a hotpatch planned, every device instructed (applying), an agent token for each. On a new SQLite
 * file or a new PostgreSQL schema; `dispose` removes it.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { createEngine } from '@hotpatch/engine';
import { createOrchestrator, systemClock } from '@hotpatch/fleet';
import { inBatch } from '@hotpatch/store';
import { issueToken } from '@hotpatch/server';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { createPostgresEventStore } from '@hotpatch/store-postgres';

export const BENCH_POLICY = {
  rings: [{ name: 'all', deferralDays: 0, budget: { percent: 100 }, gate: { minVerifiedShare: 0.5, maxFailureRate: 1, minSoakHours: 24 }, deadlineDays: 365 }],
  applyTimeoutMinutes: 525_600,
  silenceHours: 87_600,
};
const PROFILE = { edition: 'Enterprise E3', build: '26100.2894', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false };
let made = 0;

export async function prepareFleet({ kind, devices, scratch, postgres }) {
  const policyFile = join(scratch, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(BENCH_POLICY));
  let store;
  let source;
  let drop = async () => {};
  if (kind === 'sqlite') {
    const path = join(scratch, `fleet-${++made}.db`);
    store = openSqliteEventStore({ path });
    source = `sqlite:${path}`;
  } else {
    const schema = `hotpatch_bench_server_${process.pid}_${++made}`;
    store = await createPostgresEventStore({ connectionString: postgres, schema });
    const url = new URL(postgres);
    url.searchParams.set('schema', schema);
    source = url.href;
    drop = async () => {
      const again = await createPostgresEventStore({ connectionString: postgres, schema });
      await again.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await again.close();
    };
  }
  const started = Date.now();
  const engine = createEngine({ store, clock: () => new Date() });
  const ids = Array.from({ length: devices }, (_, i) => `dev-${String(i + 1).padStart(6, '0')}`);
  const agents = [];
  for (let i = 0; i < ids.length; i += 1000) {
    await inBatch(store, async () => {
      for (const device of ids.slice(i, i + 1000)) {
        await engine.execute({ id: randomUUID(), type: 'EnrolDevice', device, profile: PROFILE, ring: 'all', baseline: 'B-BENCH' });
        await engine.execute({ id: randomUUID(), type: 'AssessEligibility', device, latestBaseline: 'B-BENCH' });
        agents.push({ device, token: (await issueToken(store, { role: 'agent', tenant: 'default', device })).token });
      }
    });
  }
  const orchestrator = createOrchestrator({ store, clock: systemClock, policy: BENCH_POLICY, instructionsPerUnit: 1000, checkpoint: { name: 'hotpatch-serve' } });
  await orchestrator.planRollout({ id: 'HP-BENCH', kind: 'hotpatch', releasedAt: new Date().toISOString(), baseline: 'B-BENCH', liveRevert: true });
  let instructed = 0;
  for (;;) {
    const tick = await orchestrator.tick();
    instructed += tick.instructed;
    if (tick.instructed === 0) break;
  }
  if (instructed !== devices) throw new Error(`prepare: ${instructed} devices instructed of ${devices}`);
  const patch = orchestrator.projection.devices.get(ids[0]).state.context.inFlight.patch;
  await orchestrator.saveCheckpoint();
  await store.close();
  console.error(`  prepared ${kind}, ${devices} devices, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { store: source, policyFile, agents, patch, dispose: drop };
}
