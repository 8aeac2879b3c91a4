import { rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { planReleases } from '@hotpatch/core';
import { FleetProjection, fleetStatus, type FleetPolicy } from '@hotpatch/fleet';
import { DEFAULT_FAULTS, simulate } from '@hotpatch/simulator';
import { fleetAt, foldTimeline, verifyTimeline } from '@hotpatch/replay';
import { logDigest, pendingFile, scopeStore, writeFileAtomically, writeTimeline } from '@hotpatch/store';
import { CheckFailed, parse, positiveInt, UsageError, type CommandSpec, fleetSize } from '../args.js';
import { json, table } from '../format.js';
import { summarise } from '../demo/summary.js';
import { describeSource, openEventStore, parseStoreSource, readSource, type SourceEvents } from '../store-source.js';
import { ofTenant, TENANT_OPTION, tenantFlag, tenantReader } from '../tenant.js';

/** The demo's rings: a pilot of a tenth of the fleet that tolerates a tenth failing, then everyone else. */
export const DEMO_POLICY: FleetPolicy = {
  rings: [
    { name: 'pilot', deferralDays: 0, budget: { percent: 10 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.1, minSoakHours: 24 }, deadlineDays: 5 },
    { name: 'broad', deferralDays: 3, budget: { percent: 8 }, gate: { minVerifiedShare: 0.9, maxFailureRate: 0.08, minSoakHours: 24 }, deadlineDays: 14 },
  ],
  applyTimeoutMinutes: 60,
  silenceHours: 48,
};

/** The demo's policy with a pilot ring that would let February's bad hotpatch through: for `hotpatch whatif`. */
export const LENIENT_PILOT_POLICY: FleetPolicy = {
  ...DEMO_POLICY,
  rings: DEMO_POLICY.rings.map((r, i) => (i === 0 ? { ...r, budget: { percent: 60 }, gate: { ...r.gate, minVerifiedShare: 0.4, maxFailureRate: 0.6 } } : r)),
};

/** January's baseline, February's hotpatch (bad on some devices), March's hotpatch (cannot be reverted live). */
export const DEMO_QUARTER = planReleases({ from: '2026-01', months: 3, notLiveRevertible: ['HP-2026-03'] });

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'run a quarter of releases over a fleet through the orchestrator, and write its log',
  usage: `hotpatch demo [--devices N] [--out DIR] [--store <source>] [--seed S] [--tenant T] [--json]

  Builds a fleet (default 200 devices in a pilot ring of 10% and a broad ring; a few cannot take hotpatches)
  and runs one quarter through the orchestrator with simulated agents: January's baseline (a restart
  everywhere), February's hotpatch (it fails its health check on many devices: the pilot ring catches it, the
  rollout halts by itself, the pilot devices roll back live, the broad ring never receives it), March's hotpatch
  (it cannot be reverted live: its failures need reboots). Devices that cannot take hotpatches get the
  traditional update with a restart instead. The log goes to a new SQLite database DIR/hotpatch.db (default DIR:
  out/demo, replaced on each run) or to the empty store given with --store; it is verified, exported to
  DIR/events.jsonl and summarised. Same seed, same log.

  --tenant T: the fleet is tenant T's (its streams tenant/T/…, docs/tenants.md); the store given with --store
  need only hold nothing of T's. The whole log is verified and exported; the summary is T's fleet.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { devices: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' }, ...TENANT_OPTION });
    const tenant = tenantFlag(values.tenant);
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const count = fleetSize(values.devices as string | undefined, 200);
    const seed = positiveInt(values.seed as string | undefined, '--seed', 1);
    const outDir = resolve((values.out as string | undefined) ?? 'out/demo');
    const file = resolve(outDir, 'events.jsonl');
    const explicit = values.store as string | undefined;
    const dbPath = resolve(outDir, 'hotpatch.db');
    const policyFile = resolve(outDir, 'policy-lenient-pilot.json');
    // Everything the demo writes appears whole or not at all: the new database is built beside the old one and
    // replaces it at the end, with the timeline and the policy file.
    const pendingDb = explicit === undefined ? await pendingFile(dbPath) : undefined;
    const source = explicit !== undefined ? parseStoreSource(explicit) : ({ kind: 'sqlite', path: pendingDb!.temporary } as const);
    let input: SourceEvents;
    let streams: number;
    try {
      const opened = await openEventStore(source);
      const store = tenant === undefined ? opened : scopeStore(opened, tenant);
      try {
        if ((await store.readAll({ limit: 1 })).length > 0) throw new CheckFailed(`${ofTenant(describeSource(source), tenant)} is not empty; the demo needs an empty store`);
        await simulate({
          devices: count,
          months: 3,
          seed,
          policy: DEMO_POLICY,
          store,
          arm: 'hotpatch',
          catalog: DEMO_QUARTER,
          firstRingShare: 0.1,
          faults: { ...DEFAULT_FAULTS, badHotpatchIndex: 0, badHotpatchHealthFailure: 0.35, applyFailure: 0.025, silentAgents: 0.01 },
        });
      } finally {
        await opened.close();
      }
      input = await readSource(source);
      const report = verifyTimeline(input);
      if (!report.ok) throw new CheckFailed(`the demo's log does not verify: ${report.problems[0]!.message}`);
      streams = report.streams;
      await writeTimeline(file, input.events);
      // A policy to ask "what if" with, beside the timeline.
      await writeFileAtomically(policyFile, (out) => out.writeFile(`${JSON.stringify(LENIENT_PILOT_POLICY, null, 2)}\n`));
      if (pendingDb !== undefined) {
        // The old database's journal files must not meet the new database; the new one's, left empty by the read
        // above (a reader cannot remove them) and known to no one else, go too.
        for (const suffix of ['-wal', '-shm']) await rm(dbPath + suffix, { force: true });
        for (const suffix of ['-wal', '-shm']) await rm(pendingDb.temporary + suffix, { force: true });
        await pendingDb.commit();
      }
    } catch (error) {
      if (pendingDb !== undefined) for (const suffix of ['', '-wal', '-shm']) await rm(pendingDb.temporary + suffix, { force: true });
      throw error;
    }

    // Everything below is read back from the log (the tenant's fleet, as it reads it); the digest is the whole log's.
    const reader = tenantReader(tenant);
    const mine: SourceEvents = reader === undefined ? input : { ...input, events: reader(input.events), lines: undefined };
    const fleet = fleetAt(mine);
    const summary = summarise(mine.events, fleet);
    const projection = new FleetProjection();
    for (const e of mine.events) projection.apply(e);
    const status = fleetStatus(projection, mine.events.reduce((t, e) => (e.time > t ? e.time : t), ''));
    const digest = logDigest([...foldTimeline(input).streams.values()].map((s) => [s.stream, s.hash!] as const));
    const storeShown = pendingDb !== undefined ? `sqlite:${relative(process.cwd(), dbPath) || dbPath}` : describeSource(source);
    const asTenant = tenant === undefined ? '' : ` --tenant ${tenant}`;
    const shown = relative(process.cwd(), file) || file;
    const policyShown = relative(process.cwd(), policyFile) || policyFile;
    const story = status.rollouts.map((r) => {
      const [pilot] = r.rings;
      const release = DEMO_QUARTER.releases.find((x) => x.id === r.release);
      const o = summary.patches[r.release];
      let text: string;
      if (r.state === 'halted') {
        // The halt's own count (its "N > budget"), then the failures its devices in flight reported after it.
        const halted = r.rings.find((g) => g.name === r.halt?.ring) ?? pilot!;
        const after = r.halt?.sinceHalt.failed ?? 0;
        const untouched = r.rings.filter((g) => g.started === null);
        text =
          `HALTED by itself in the ${halted.name} ring: ${r.halt?.atHalt.failed ?? halted.failed} of ${halted.size} devices failed (budget ${halted.budget})${after ? `, ${after} more after the halt` : ''}; ` +
          (release?.kind === 'hotpatch' && !release.liveRevert ? `its devices marked for reboot (it cannot be reverted live)` : `${o?.rolledBack ?? 0} devices rolled back live`) +
          (untouched.length ? `; the ${untouched.map((g) => `${g.name} ring (${g.size} devices)`).join(' and ')} never received it` : '');
      } else if (r.state === 'completed') {
        const failures = r.rings.reduce((a, g) => a + g.failed, 0);
        const reboots = o ? o.rebootsNeeded + o.rollbackFailed : 0;
        text =
          release?.kind === 'baseline'
            ? `completed: a restart on every device, ring by ring`
            : `completed through ${r.rings.map((g) => g.name).join(' and ')}: ${o?.verified ?? 0} verified, ${failures} failed` + (reboots ? ` (${reboots} needed reboots: ${release && release.kind === 'hotpatch' && !release.liveRevert ? 'it cannot be reverted live' : 'their rollback failed'})` : '');
      } else text = `${r.state}${r.ring ? ` in ${r.ring}` : ''}`;
      return { release: r.release, state: r.state, text };
    });

    if (values.json) {
      io.out(json({ store: storeShown, ...(tenant === undefined ? {} : { tenant }), file, seed, digest, story, ...summary, compliance: status.compliance, rollouts: status.rollouts }));
      return;
    }
    const rings = status.rollouts[0]?.rings.map((g) => `${g.name} (${g.size} devices)`).join(', ') ?? '';
    io.out(`hotpatch demo — ${summary.devices} devices, one quarter (January–March 2026), seed ${seed}`);
    io.out(`Rings: ${rings}\n`);
    io.out('Rollouts');
    for (const s of story) io.out(`  ${s.release.padEnd(11)} ${s.text}`);
    io.out('');
    io.out(
      table(
        ['hotpatch', 'live revert', 'staged', 'verified', 'failed', 'rolled back live', 'needed a reboot'],
        DEMO_QUARTER.releases.flatMap((r) => {
          if (r.kind !== 'hotpatch') return [];
          const o = summary.patches[r.id];
          return [[r.id, r.liveRevert ? 'yes' : 'no', String(o?.staged ?? 0), String(o?.verified ?? 0), String((o?.applyFailed ?? 0) + (o?.healthFailed ?? 0)), String(o?.rolledBack ?? 0), String((o?.rebootsNeeded ?? 0) + (o?.rollbackFailed ?? 0))]];
        }),
      ),
    );
    const states = Object.entries(summary.states).sort((a, b) => b[1] - a[1]);
    io.out(`\nDevices now: ${states.map(([s, n]) => `${n} ${s}`).join(', ')}`);
    const reasons = Object.entries(summary.reboots).sort((a, b) => b[1] - a[1]);
    io.out(`Reboots: ${summary.rebootsTotal} in the quarter — ${reasons.map(([r, n]) => `${n} ${r}`).join(', ')}`);
    const rollbacks = Object.values(summary.patches).reduce((a, o) => a + o.rolledBack, 0);
    const rollbackFailures = Object.values(summary.patches).reduce((a, o) => a + o.rollbackFailed, 0);
    io.out(`Rollbacks: ${rollbacks} live, ${rollbackFailures} failed (those devices rebooted to the baseline)`);
    const whole = tenant === undefined ? `${summary.events} events in ${streams} streams` : `tenant ${tenant}'s ${summary.events} events in ${new Set(mine.events.map((e) => e.stream)).size} streams (the whole log: ${input.events.length} events in ${streams} streams)`;
    io.out(`\nLog: ${storeShown} — ${whole}, verified: every transition allowed, every hash chained`);
    io.out(`     digest ${digest}`);
    io.out(`     exported as a timeline to ${shown}`);
    io.out('\nTry next:');
    io.out(`  pnpm hotpatch status --store ${storeShown}${asTenant}`);
    for (const r of status.rollouts.filter((x) => x.state === 'halted')) io.out(`  pnpm hotpatch history --store ${storeShown}${asTenant} --rollout ${r.rollout}    # why it halted, event by event`);
    if (summary.examples.rolledBack) io.out(`  pnpm hotpatch history --store ${storeShown}${asTenant} --device ${summary.examples.rolledBack}    # rolled back live when the rollout halted`);
    if (summary.examples.rebootedAfterFailure) io.out(`  pnpm hotpatch history --store ${storeShown}${asTenant} --device ${summary.examples.rebootedAfterFailure}    # not revertible live: its failure needed a reboot`);
    if (tenant === undefined) io.out(`  pnpm hotpatch whatif --store ${storeShown} --policy ${policyShown}    # had the pilot tolerated more failures`);
    io.out(`  pnpm hotpatch replay ${shown}${asTenant} --at 2026-02-12T12:00:00Z    # the fleet while February's rollout was halting`);
    io.out(`  pnpm hotpatch verify --store ${storeShown}${asTenant}`);
    io.out(`  pnpm hotpatch check    # model-check the lifecycle itself`);
  },
};
