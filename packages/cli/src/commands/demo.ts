import { mkdir, rm } from 'node:fs/promises';
import { resolve, relative } from 'node:path';
import { seededRandom } from '@hotpatch/core';
import { createEngine } from '@hotpatch/engine';
import { fleetAt, foldTimeline, verifyTimeline } from '@hotpatch/replay';
import { describeSource, openEventStore, parseStoreSource, readSource } from '../store-source.js';
import { logDigest, writeTimeline } from '@hotpatch/store';
import { v7 as uuidv7 } from 'uuid';
import { CheckFailed, parse, positiveInt, UsageError, type CommandSpec } from '../args.js';
import { json, table } from '../format.js';
import { buildFleet } from '../demo/fleet.js';
import { DEMO_QUARTER, runQuarter, simulatedClock } from '../demo/quarter.js';
import { summarise } from '../demo/summary.js';

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'run a quarter of releases over a fleet and write its log',
  usage: `hotpatch demo [--devices N] [--out DIR] [--store <source>] [--seed S] [--json]

  Builds a fleet (default 200 devices, a few not eligible for hotpatch), runs one quarter of releases through the
  command layer — January's baseline (a restart everywhere), February's hotpatch (fails its health check on some
  devices, rolled back live), March's hotpatch (cannot be reverted live: its failures need reboots) — into an
  event store: by default a new SQLite database DIR/hotpatch.db (default DIR: out/demo, replaced on each run),
  or the empty store given with --store (sqlite:path or postgres://…). It then verifies the log, exports it to
  DIR/events.jsonl and prints a summary. Same seed, same log.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      devices: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      store: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
    const count = positiveInt(values.devices as string | undefined, '--devices', 200);
    const seed = positiveInt(values.seed as string | undefined, '--seed', 1);
    const outDir = resolve((values.out as string | undefined) ?? 'out/demo');
    const file = resolve(outDir, 'events.jsonl');

    const explicit = values.store as string | undefined;
    const dbPath = resolve(outDir, 'hotpatch.db');
    const source = explicit !== undefined ? parseStoreSource(explicit) : ({ kind: 'sqlite', path: dbPath } as const);
    await mkdir(outDir, { recursive: true });
    if (explicit === undefined) {
      // The default database is the demo's own: start it afresh.
      for (const suffix of ['', '-wal', '-shm']) await rm(dbPath + suffix, { force: true });
    }

    const random = seededRandom(seed);
    const clock = simulatedClock('2026-01-05T08:00:00.000Z');
    const store = await openEventStore(source);
    try {
      if ((await store.readAll({ limit: 1 })).length > 0) throw new CheckFailed(`${describeSource(source)} is not empty; the demo needs an empty store`);
      const engine = createEngine({ store, clock: clock.now, newId: () => uuidv7({ msecs: clock.now().getTime(), random: random.bytes16() }), meta: { source: 'hotpatch demo' } });
      await runQuarter(engine, buildFleet(count, random), clock, random);
    } finally {
      await store.close();
    }

    // Read back what was written: the summary describes the log, and the log must verify.
    const input = await readSource(source);
    const report = verifyTimeline(input);
    if (!report.ok) throw new CheckFailed(`the demo's log does not verify: ${report.problems[0]!.message}`);
    await writeTimeline(file, input.events);
    const fleet = fleetAt(input);
    const summary = summarise(input.events, fleet);
    const digest = logDigest([...foldTimeline(input).streams.values()].map((s) => [s.stream, s.hash!] as const));
    const storeShown = source.kind === 'sqlite' ? `sqlite:${relative(process.cwd(), source.path) || source.path}` : describeSource(source);
    const shown = relative(process.cwd(), file) || file;

    if (values.json) {
      io.out(json({ store: storeShown, file, seed, digest, ...summary }));
      return;
    }
    const pct = (n: number, of: number) => (of === 0 ? '0%' : `${Math.round((100 * n) / of)}%`);
    io.out(`hotpatch demo — ${summary.devices} devices, one quarter (January–March 2026), seed ${seed}\n`);
    io.out('Releases');
    io.out(
      table(
        ['release', 'kind', 'released', 'live revert', 'staged', 'verified', 'failed', 'rolled back live', 'needed a reboot'],
        DEMO_QUARTER.releases.map((r) => {
          if (r.kind === 'baseline') return [r.id, 'baseline', r.released.slice(0, 10), '-', '-', '-', '-', '-', `${summary.reboots.baseline ?? 0} (restart is how a baseline installs)`];
          const o = summary.patches[r.id];
          if (!o) return [r.id, 'hotpatch', r.released.slice(0, 10), r.liveRevert ? 'yes' : 'no', '0', '0', '0', '0', '0'];
          const failed = o.applyFailed + o.healthFailed;
          return [r.id, 'hotpatch', r.released.slice(0, 10), r.liveRevert ? 'yes' : 'no', String(o.staged), `${o.verified} (${pct(o.verified, o.staged)})`, String(failed), String(o.rolledBack), String(o.rollbackFailed + o.rebootsNeeded)];
        }),
      ),
    );
    const states = Object.entries(summary.states).sort((a, b) => b[1] - a[1]);
    io.out(`\nDevices now: ${states.map(([s, n]) => `${n} ${s}`).join(', ')}`);
    const reasons = Object.entries(summary.reboots).sort((a, b) => b[1] - a[1]);
    io.out(`Reboots: ${summary.rebootsTotal} in the quarter — ${reasons.map(([r, n]) => `${n} ${r}`).join(', ')}`);
    io.out(`         a device on hotpatch restarts once a quarter; ineligible devices restart every month (reason "eligibility")`);
    const rollbacks = Object.values(summary.patches).reduce((a, o) => a + o.rolledBack, 0);
    const rollbackFailures = Object.values(summary.patches).reduce((a, o) => a + o.rollbackFailed, 0);
    io.out(`Rollbacks: ${rollbacks} live, ${rollbackFailures} failed (those devices rebooted to the baseline)`);
    io.out(`\nLog: ${storeShown} — ${summary.events} events in ${report.streams} streams, verified: every transition allowed, every hash chained`);
    io.out(`     digest ${digest}`);
    io.out(`     exported as a timeline to ${shown}`);
    io.out('\nTry next:');
    const example = summary.examples.rolledBack ?? fleet[0]?.device;
    io.out(`  pnpm hotpatch replay --store ${storeShown} --device ${example}`);
    if (summary.examples.rolledBack) io.out(`  pnpm hotpatch history ${shown} --device ${summary.examples.rolledBack}    # rolled back live in February`);
    if (summary.examples.rebootedAfterFailure) io.out(`  pnpm hotpatch history ${shown} --device ${summary.examples.rebootedAfterFailure}    # March apply failed: not live-revertible, rebooted`);
    io.out(`  pnpm hotpatch replay ${shown} --at 2026-02-10T18:00:00Z    # the fleet mid-February`);
    io.out(`  pnpm hotpatch verify --store ${storeShown}`);
  },
};
