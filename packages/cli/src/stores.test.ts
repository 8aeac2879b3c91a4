/** The CLI over real stores: export/import round trips, status from a saved projection, pause, simulate and whatif (verify against tampering: verify-tamper.test.ts). */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetProjection } from '@hotpatch/fleet';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { demoFixture } from './testing/demo-fixture.js';
import { eachStorePage } from './store-source.js';

const demo = await demoFixture('hotpatch-cli-stores-');
const { dir, db, timeline, cli } = demo;
beforeAll(demo.setUp);
afterAll(demo.cleanUp);

describe('stores on the command line', () => {
  it('the demo writes a SQLite database that verifies and replays like its exported timeline', async () => {
    const verify = await cli('verify', '--store', `sqlite:${db}`);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/every hash chained\nlog digest: [0-9a-f]{64}$/);
    expect((await cli('verify', timeline)).out.split('\n')[1]).toBe(verify.out.split('\n')[1]);
    expect((await cli('replay', '--store', `sqlite:${db}`, '--json')).out).toBe((await cli('replay', timeline, '--json')).out);
  });

  it('export → import → export is byte-identical, and a second import changes nothing', async () => {
    const first = join(dir, 'first.jsonl');
    expect((await cli('export', '--store', `sqlite:${db}`, '--out', first)).code).toBe(0);
    expect(await readFile(first, 'utf8')).toBe(await readFile(timeline, 'utf8'));
    const copy = join(dir, 'copy.db');
    const imported = await cli('import', first, '--store', `sqlite:${copy}`, '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.out)).toMatchObject({ written: JSON.parse(imported.out).events, alreadyThere: 0 });
    const second = join(dir, 'second.jsonl');
    await cli('export', '--store', `sqlite:${copy}`, '--out', second);
    expect(await readFile(second, 'utf8')).toBe(await readFile(first, 'utf8'));
    const again = JSON.parse((await cli('import', first, '--store', `sqlite:${copy}`, '--json')).out);
    expect(again).toMatchObject({ written: 0, alreadyThere: again.events });
    await cli('export', '--store', `sqlite:${copy}`, '--out', second);
    expect(await readFile(second, 'utf8')).toBe(await readFile(first, 'utf8'));
  });

  it('import checks the whole file first and writes nothing when any of it is wrong', async () => {
    const lines = (await readFile(timeline, 'utf8')).trimEnd().split('\n');
    lines[lines.length - 1] = lines[lines.length - 1]!.replace('"type":"', '"type":"X');
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, lines.join('\n') + '\n');
    const target = join(dir, 'untouched.db');
    const r = await cli('import', bad, '--store', `sqlite:${target}`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^line ${lines.length}: `));
    const store = openSqliteEventStore({ path: target });
    expect(await store.readAll()).toEqual([]);
    await store.close();
  });

  it('reads a store’s log page by page, in order, and stops where asked', async () => {
    const store = openSqliteEventStore({ path: db });
    const all = await store.readAll();
    await store.close();
    const seen: number[] = [];
    const pages: number[] = [];
    let heads = 0;
    const n = await eachStorePage(
      { kind: 'sqlite', path: db },
      (page) => {
        pages.push(page.length);
        for (const e of page) seen.push(e.position);
      },
      { pageSize: 7, afterwards: async (s) => void (heads = (await s.streamHeads!()).length) },
    );
    expect(n).toBe(all.length);
    expect(seen).toEqual(all.map((e) => e.position));
    expect(pages.slice(0, -1).every((p) => p === 7)).toBe(true);
    expect(heads).toBe(new Set(all.map((e) => e.stream)).size);
    const stopped: number[] = [];
    expect(await eachStorePage({ kind: 'sqlite', path: db }, (page) => void stopped.push(page.length) ?? stopped.length < 3, { pageSize: 5 })).toBe(15);
    expect(stopped).toEqual([5, 5, 5]);
  });

  it('replay, history, status and export from a store answer as from its exported timeline', async () => {
    const store = `sqlite:${db}`;
    const events = (await readFile(timeline, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { stream: string; time: string; position: number });
    const at = events[Math.floor(events.length / 2)]!.time;
    const position = String(events[Math.floor(events.length / 3)]!.position);
    const same = async (...argv: string[]) => {
      const [fromStore, fromFile] = [await cli(...argv, '--store', store), await cli(...argv, timeline)];
      expect({ code: fromStore.code, out: fromStore.out }, argv.join(' ')).toEqual({ code: fromFile.code, out: fromFile.out });
      // The same refusal, if any, but for the source's name.
      expect(fromStore.err.replaceAll(`sqlite:${db}`, 'SOURCE')).toBe(fromFile.err.replaceAll(timeline, 'SOURCE'));
      return fromStore.code;
    };
    const codes: number[] = [];
    for (const point of [[], ['--at', at], ['--position', position]]) {
      codes.push(await same('replay', '--json', ...point));
      for (const device of ['dev-00001', 'dev-00007', 'dev-00024']) {
        codes.push(await same('replay', '--device', device, '--json', ...point));
        codes.push(await same('history', '--device', device, ...point));
      }
      codes.push(await same('history', '--rollout', 'HP-2026-02', ...point));
    }
    codes.push(await same('status', '--json'), await same('status'));
    // Answers, mostly: a rollout planned after the position asked for has no history yet, from either.
    expect(codes.filter((c) => c === 0).length).toBeGreaterThanOrEqual(codes.length - 1);
    const exported = await cli('export', '--store', store);
    expect(exported.out + '\n').toBe(await readFile(timeline, 'utf8'));
    // Asked about a stream the store does not hold: the same refusal as from the file.
    const none = await cli('history', '--device', 'dev-99999', '--store', store);
    expect(none).toMatchObject({ code: 1, err: expect.stringContaining('device dev-99999 has no events') });
  });

  it('export needs a store and refuses a path that does not exist', async () => {
    expect((await cli('export')).code).toBe(2);
    expect((await cli('export', '--store', `sqlite:${join(dir, 'nope.db')}`)).err).toMatch(/no such database/);
    expect((await cli('replay', '--store', 'redis://x')).err).toMatch(/unknown kind of store/);
  });
});


describe('hotpatch status --projection', () => {
  it('starts from a saved projection and folds only the rest: the same status as the whole log', async () => {
    const copy = join(dir, 'status.db');
    expect((await cli('import', timeline, '--store', `sqlite:${copy}`)).code).toBe(0);
    // Save a projection of the first half of the log, as an orchestrator's checkpoint would.
    const store = openSqliteEventStore({ path: copy });
    const events = await store.readAll();
    const half = new FleetProjection();
    for (const e of events.slice(0, Math.floor(events.length / 2))) half.apply(e);
    expect(await store.saveProjection('ops', half.position, half.serialize())).toBe(true);
    await store.close();
    const whole = await cli('status', '--store', `sqlite:${copy}`, '--json');
    expect(whole.code).toBe(0);
    const fromSaved = await cli('status', '--store', `sqlite:${copy}`, '--projection', 'ops', '--json');
    expect(fromSaved).toMatchObject({ code: 0, err: '' });
    expect(fromSaved.out).toBe(whole.out);
    // No projection under that name: said, and the whole log is folded.
    const missing = await cli('status', '--store', `sqlite:${copy}`, '--projection', 'nobody', '--json');
    expect(missing.err).toMatch(/no projection saved under "nobody": folding the whole log/);
    expect(missing.out).toBe(whole.out);
    // A timeline file keeps none: a usage error.
    expect((await cli('status', timeline, '--projection', 'ops')).code).toBe(2);
  });
});

describe('hotpatch pause and resume', () => {
  it('write a ring’s or a rollout’s pause into the store as the orchestrator would, refusing what its machine refuses', async () => {
    const copy = join(dir, 'pause.db');
    expect((await cli('import', timeline, '--store', `sqlite:${copy}`)).code).toBe(0);
    const store = `sqlite:${copy}`;
    const paused = await cli('pause', '--store', store, '--ring', 'broad', '--by', 'tenant', '--reason', 'quarter-end freeze');
    expect(paused).toMatchObject({ code: 0, err: '' });
    expect(paused.out).toMatch(/^RingPaused recorded at position \d+ — ring broad is paused by tenant\nIt receives nothing new, whatever the release/);
    // The service cannot lift it; a ring that is not paused has nothing to resume; a typo is not a ring.
    expect(await cli('resume', '--store', store, '--ring', 'broad', '--by', 'service')).toMatchObject({ code: 1, err: expect.stringContaining('the service holds no pause on it to lift (the service cannot lift the tenant’s pause); nothing written') });
    expect(await cli('resume', '--store', store, '--ring', 'pilot', '--by', 'tenant')).toMatchObject({ code: 1, err: expect.stringContaining('ring pilot is not paused (it is open)') });
    expect(await cli('pause', '--store', store, '--ring', 'braod', '--by', 'tenant', '--reason', 'x')).toMatchObject({ code: 1, err: expect.stringContaining('no ring braod in sqlite:') });
    // A rollout: one that does not exist, and the demo's, which ended (halted or completed), cannot be paused.
    expect(await cli('pause', '--store', store, '--rollout', 'HP-2099-01', '--by', 'tenant', '--reason', 'x')).toMatchObject({ code: 1, err: expect.stringContaining('no rollout HP-2099-01') });
    expect(await cli('pause', '--store', store, '--rollout', 'HP-2026-02', '--by', 'tenant', '--reason', 'x')).toMatchObject({ code: 1, err: expect.stringMatching(/RolloutPaused refused in state 'halted'.*nothing written/) });
    // What the orchestrator reads from the log: the ring paused by the tenant.
    const read = async () => {
      const s = openSqliteEventStore({ path: copy });
      try {
        const p = new FleetProjection();
        for (const e of await s.readAll()) p.apply(e);
        return p;
      } finally {
        await s.close();
      }
    };
    expect((await read()).ringPauses.get('broad')!.state.context.holds).toEqual([{ by: 'tenant', reason: 'quarter-end freeze' }]);
    // The tenant resumes, with an id: a retry records nothing new.
    const id = '0193f2a0-0000-7000-8000-0000000000c1';
    const resumed = JSON.parse((await cli('resume', '--store', store, '--ring', 'broad', '--by', 'tenant', '--id', id, '--json')).out);
    expect(resumed).toMatchObject({ ring: 'broad', event: 'RingResumed', written: true, state: 'open', pausedBy: [] });
    expect(JSON.parse((await cli('resume', '--store', store, '--ring', 'broad', '--by', 'tenant', '--id', id, '--json')).out)).toMatchObject({ written: false, position: resumed.position });
    expect((await read()).isRingPaused('broad')).toBe(false);
    // A pause's id given to the resume is not a retry of the pause: refused in one line, nothing written.
    const pauseId = '0193f2a0-0000-7000-8000-0000000000c2';
    expect((await cli('pause', '--store', store, '--ring', 'broad', '--by', 'tenant', '--reason', 'again', '--id', pauseId)).code).toBe(0);
    const length = async () => (await read()).position;
    const before = await length();
    const reused = await cli('resume', '--store', store, '--ring', 'broad', '--by', 'tenant', '--id', pauseId);
    expect(reused).toMatchObject({ code: 1, out: '' });
    expect(reused.err).toMatch(new RegExp(`^hotpatch resume: ring/broad: event id ${pauseId} is already recorded at version \\d+ as a RingPaused, not a RingResumed; [^\\n]*nothing of the batch was written$`));
    expect(await length()).toBe(before);
    expect((await read()).isRingPaused('broad')).toBe(true);
    expect((await cli('resume', '--store', store, '--ring', 'broad', '--by', 'tenant')).code).toBe(0);
    expect((await read()).isRingPaused('broad')).toBe(false);
    expect((await cli('verify', '--store', store)).code).toBe(0);
    // Usage errors: no reason, no party, both or neither target, a timeline file.
    for (const argv of [
      ['pause', '--store', store, '--ring', 'broad', '--by', 'tenant'],
      ['pause', '--store', store, '--ring', 'broad', '--by', 'someone', '--reason', 'x'],
      ['pause', '--store', store, '--ring', 'broad', '--rollout', 'HP-2026-02', '--by', 'tenant', '--reason', 'x'],
      ['resume', '--store', store, '--by', 'tenant'],
      ['pause', '--store', timeline, '--ring', 'broad', '--by', 'tenant', '--reason', 'x'],
    ]) {
      expect((await cli(...argv)).code, argv.join(' ')).toBe(2);
    }
  });
});

describe('hotpatch simulate', () => {
  it('compares both arms from their logs, and the same seed writes the same log byte for byte', async () => {
    const exported = async (db: string, name: string) => {
      const out = join(dir, `${name}.jsonl`);
      expect((await cli('export', '--store', `sqlite:${db}`, '--out', out)).code).toBe(0);
      return readFile(out, 'utf8');
    };
    const run = async (name: string, seed: string, ...more: string[]) => {
      const r = await cli('simulate', '--devices', '40', '--months', '4', '--seed', seed, '--store', `sqlite:${join(dir, `${name}.db`)}`, '--json', ...more);
      expect(r.code).toBe(0);
      return { figures: JSON.parse(r.out), log: await exported(join(dir, `${name}.db`), name), traditional: await exported(join(dir, `${name}.traditional.db`), `${name}.traditional`) };
    };
    const a = await run('sim-a', '5');
    const b = await run('sim-b', '5');
    const c = await run('sim-c', '6');
    expect(b.log).toBe(a.log);
    expect(c.log).not.toBe(a.log);
    // Side by side in worker threads (when the CLI is built) or one after the other: the same logs, the same figures.
    const built = existsSync(fileURLToPath(new URL('../dist/commands/simulate-arm.js', import.meta.url)));
    expect([a.figures.workers, a.figures.sideBySide]).toEqual([built, built]);
    const d = await run('sim-d', '5', '--sequential');
    expect([d.figures.workers, d.figures.sideBySide]).toEqual([built, false]);
    expect(d.log).toBe(a.log);
    expect(d.traditional).toBe(a.traditional);
    expect([d.figures.hotpatch, d.figures.traditional]).toEqual([a.figures.hotpatch, a.figures.traditional]);
    // A store that already holds events is refused before either arm writes anything.
    const again = await cli('simulate', '--devices', '40', '--months', '4', '--seed', '5', '--store', `sqlite:${join(dir, 'sim-a.db')}`);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/sim-a\.db is not empty/);
    expect(await exported(join(dir, 'sim-a.traditional.db'), 'sim-a-again')).toBe(a.traditional);
    expect(a.figures.hotpatch.rebootsPerDevicePerYear).toBeLessThan(a.figures.traditional.rebootsPerDevicePerYear);
    expect(a.figures.traditional.rebootsPerDevicePerYear).toBeGreaterThan(10);
    // The bad fix is as bad in its cumulative update: both arms halt it, one rolls back live, the other uninstalls.
    expect([a.figures.hotpatch.haltedRollouts, a.figures.traditional.haltedRollouts]).toEqual([['OOB-2026-02'], ['LCU-OOB-2026-02']]);
    expect(a.figures.hotpatch.rollbacks).toBeGreaterThan(0);
    expect(a.figures.traditional.uninstalls).toBeGreaterThan(0);
    expect((await cli('verify', '--store', `sqlite:${join(dir, 'sim-a.db')}`)).code).toBe(0);
    const text = await cli('simulate', '--devices', '20', '--months', '2');
    expect(text.out).toMatch(/reboots per device per year +[\d.]+ +[\d.]+/);
    expect(text.err).toMatch(/hotpatch   : 2026-01-\d\d/);
  });

  it('refuses a bad policy file with the reason', async () => {
    const policy = join(dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ rings: [{ name: 'pilot' }], applyTimeoutMinutes: 60, silenceHours: 48 }));
    const r = await cli('simulate', '--devices', '5', '--months', '1', '--policy', policy);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/rings\[0\]\.deferralDays: expected a number from 0 to 3650, got nothing/);
  });
});

describe('hotpatch whatif', () => {
  it('runs a recorded log again under another policy, side by side, from a store or its export, into a store of its own', async () => {
    const recorded = join(dir, 'whatif-recorded.db');
    expect((await cli('simulate', '--devices', '200', '--months', '3', '--seed', '5', '--store', `sqlite:${recorded}`)).code).toBe(0);
    // Rings that tolerate no failure at all.
    const strict = join(dir, 'strict.json');
    await writeFile(
      strict,
      JSON.stringify({
        rings: [
          { name: 'pilot', deferralDays: 0, budget: { count: 0 }, gate: { minVerifiedShare: 0.8, maxFailureRate: 0.1, minSoakHours: 24 }, deadlineDays: 5 },
          { name: 'broad', deferralDays: 3, budget: { count: 0 }, gate: { minVerifiedShare: 0.9, maxFailureRate: 0.05, minSoakHours: 24 }, deadlineDays: 14 },
        ],
        applyTimeoutMinutes: 60,
        silenceHours: 48,
      }),
    );
    const text = await cli('whatif', '--store', `sqlite:${recorded}`, '--policy', strict);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/What-if rings \([^)]*strict\.json\):\n {2}pilot: deferral 0 d, budget 0 devices, gate verified ≥ 80%, failures ≤ 10%, soak 24 h, deadline 5 d/);
    expect(text.out).toMatch(/\n {2}OOB-2026-02( {3}<- ends differently)?\n {4}recorded: halted [^\n]*failures past the disruption budget[^\n]*\n {4}what-if: {2}halted [^\n]*failures past the disruption budget \(1 > 0\)/);
    expect(text.out).toMatch(/<- ends differently[\s\S]*Ends differently under this policy: /);
    expect(text.out).toMatch(/The devices answered \d+ times: \d+ as they did in the log/);

    // The same answer from the exported file; the what-if log written to a store of its own, which verifies.
    const file = join(dir, 'whatif-recorded.jsonl');
    expect((await cli('export', '--store', `sqlite:${recorded}`, '--out', file)).code).toBe(0);
    const out = join(dir, 'whatif-out.db');
    const fromStore = JSON.parse((await cli('whatif', '--store', `sqlite:${recorded}`, '--policy', strict, '--json')).out);
    const fromFile = await cli('whatif', file, '--policy', strict, '--json', '--out', `sqlite:${out}`);
    expect(fromFile.code).toBe(0);
    const { out: outName, ...rest } = JSON.parse(fromFile.out);
    expect(outName).toBe(`sqlite:${out}`);
    expect({ ...rest, out: fromStore.out }).toEqual(fromStore);
    const bad = (side: { rollouts: Array<{ rollout: string; failed: number; state: string; haltedAt: string | null }> }) => side.rollouts.find((r) => r.rollout === 'OOB-2026-02')!;
    expect(bad(fromStore.whatIf)).toMatchObject({ state: 'halted' });
    // Halted at its first failure, before the recorded halt (what was in flight then may still fail: the fleet
    // package's what-if tests check the budget's bound on that).
    expect(Date.parse(bad(fromStore.whatIf).haltedAt!)).toBeLessThan(Date.parse(bad(fromStore.recorded).haltedAt!));
    expect(fromStore.whatIf.figures.events).toBeLessThan(fromStore.recorded.figures.events);
    expect((await cli('verify', '--store', `sqlite:${out}`)).out).toMatch(/^ok: /);

    // A bad line in the file: named, and nothing written.
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[99] = lines[99]!.replace('"type":"', '"type":"Not');
    const badFile = join(dir, 'whatif-bad.jsonl');
    await writeFile(badFile, lines.join('\n'));
    const empty = join(dir, 'whatif-empty.db');
    expect(await cli('whatif', badFile, '--policy', strict, '--out', `sqlite:${empty}`)).toMatchObject({ code: 1, err: expect.stringMatching(/line 100: /) });
    expect((await cli('export', '--store', `sqlite:${empty}`)).out).toBe('');

    // Refusals: an output store that holds events, no policy, a bad policy.
    const again = await cli('whatif', file, '--policy', strict, '--out', `sqlite:${out}`);
    expect(again).toMatchObject({ code: 1, err: expect.stringMatching(/whatif-out\.db is not empty/) });
    expect((await cli('whatif', file)).code).toBe(2);
    const broken = join(dir, 'bad-policy.json');
    await writeFile(broken, '{"rings": []}');
    expect(await cli('whatif', file, '--policy', broken)).toMatchObject({ code: 1, err: expect.stringMatching(/rings: expected a non-empty array/) });
  });
});

const postgresUrl = process.env.HOTPATCH_TEST_POSTGRES_URL;
if (!postgresUrl) console.warn('CLI on PostgreSQL skipped: HOTPATCH_TEST_POSTGRES_URL is not set');
describe.skipIf(!postgresUrl)('the CLI on PostgreSQL', () => {
  it('imports, verifies, replays and exports a log byte for byte through postgres://…?schema=, and runs a what-if on it', async () => {
    const schema = `hotpatch_cli_${process.pid}_${Date.now()}`;
    const url = new URL(postgresUrl!);
    url.searchParams.set('schema', schema);
    const store = url.toString();
    try {
      expect((await cli('import', timeline, '--store', store)).code).toBe(0);
      expect((await cli('verify', '--store', store)).out).toMatch(/^ok: .*every hash chained/);
      expect((await cli('replay', '--store', store, '--json')).out).toBe((await cli('replay', timeline, '--json')).out);
      const out = join(dir, 'from-postgres.jsonl');
      expect((await cli('export', '--store', store, '--out', out)).code).toBe(0);
      expect(await readFile(out, 'utf8')).toBe(await readFile(timeline, 'utf8'));
      // A what-if read from PostgreSQL page by page answers as one read from the file.
      const policy = join(dir, 'demo', 'policy-lenient-pilot.json');
      const fromPostgres = await cli('whatif', '--store', store, '--policy', policy, '--json');
      expect(fromPostgres.code).toBe(0);
      expect(JSON.parse(fromPostgres.out)).toEqual(JSON.parse((await cli('whatif', timeline, '--policy', policy, '--json')).out));
    } finally {
      const { createPostgresEventStore } = await import('@hotpatch/store-postgres');
      const s = await createPostgresEventStore({ connectionString: postgresUrl!, schema });
      await s.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await s.close();
    }
  });
});
