import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH } from '@hotpatch/store';
import { runCaptured } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...argv: string[]) => runCaptured(argv);

const demoDir = join(dir, 'demo');
const log = join(demoDir, 'events.jsonl');

describe('hotpatch demo', () => {
  beforeAll(async () => {
    const r = await cli('demo', '--devices', '60', '--out', demoDir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('writes a log that verifies and replays', async () => {
    const verify = await cli('verify', log);
    expect(verify).toMatchObject({ code: 0, out: expect.stringMatching(/^ok: \d+ events in 63 streams/) });
    const fleet = JSON.parse((await cli('replay', log, '--json')).out) as Array<{ device: string; state: string }>;
    expect(fleet).toHaveLength(60);
    expect(fleet.map((d) => d.device)).toEqual([...fleet.map((d) => d.device)].sort());
    expect(new Set(fleet.map((d) => d.state))).toContain('verified');
  });

  it('status names a paused ring, by whom and why; history --ring lists its pauses', async () => {
    const text = await readFile(log, 'utf8');
    const last = JSON.parse(text.trimEnd().split('\n').at(-1)!) as { time: string };
    const at = new Date(Date.parse(last.time) + 60_000).toISOString();
    const paused = join(dir, 'paused.jsonl');
    const pause = { id: '0193f2a0-0000-7000-8000-0000000000f1', stream: 'ring/broad', version: 1, type: 'RingPaused', time: at, data: { by: 'tenant', reason: 'quarter-end freeze' } };
    // Hashed as a store would: the log carries hashes, so every event must.
    await writeFile(paused, text + JSON.stringify({ ...pause, hash: eventHash(GENESIS_HASH, pause) }) + '\n');
    const r = await cli('status', paused);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Ring broad paused since ${at.slice(0, 16).replace('T', ' ')} — by tenant (quarter-end freeze): it receives nothing new, whatever the release`);
    expect(JSON.parse((await cli('status', paused, '--json')).out).pausedRings).toEqual([{ ring: 'broad', since: at, holds: [{ by: 'tenant', reason: 'quarter-end freeze' }] }]);
    expect((await cli('status', log)).out).not.toContain('paused since');
    const history = await cli('history', paused, '--ring', 'broad');
    expect(history.code).toBe(0);
    expect(history.out).toMatch(/RingPaused +open → paused +by=tenant reason=quarter-end freeze/);
    expect(history.out).toContain('ring broad: paused — by tenant (quarter-end freeze)');
    // A ring of the fleet never paused is an answer (exit 0); a ring the log does not know is not.
    expect(await cli('history', log, '--ring', 'broad')).toMatchObject({ code: 0, out: 'ring broad: open — never paused' });
    expect(JSON.parse((await cli('history', log, '--ring', 'broad', '--json')).out)).toEqual([]);
    expect(await cli('history', log, '--ring', 'brod')).toMatchObject({ code: 1, err: 'hotpatch history: no ring brod in ' + log + ': its rings are broad, pilot' });
    expect((await cli('history', log, '--ring', 'broad', '--device', 'dev-00001')).code).toBe(2);
  });

  it('status says what a halted rollout’s halt saw and what came after it: devices withdrawn, not in flight', async () => {
    const r = await cli('status', log);
    type Ring = { name: string; inFlight: number; withdrawn: number };
    type Halt = { ring: string; atHalt: { inFlight: number; failed: number }; sinceHalt: { failed: number } };
    const status = JSON.parse((await cli('status', log, '--json')).out) as { rollouts: Array<{ rollout: string; state: string; halt: Halt | null; rings: Ring[] }> };
    const halted = status.rollouts.find((x) => x.rollout === 'HP-2026-02')!;
    expect(halted.state).toBe('halted');
    const pilot = halted.rings.find((g) => g.name === 'pilot')!;
    expect(pilot).toMatchObject({ inFlight: 0, withdrawn: expect.any(Number) });
    expect(pilot.withdrawn).toBeGreaterThan(0);
    expect(r.out).not.toMatch(/not in flight any more/);
    // What the halt saw: the devices still in flight right after the failure that halted it, as history shows it.
    type View = { state: string; rings: Ring[] };
    const steps = JSON.parse((await cli('history', log, '--rollout', 'HP-2026-02', '--json')).out) as Array<{ event: { type: string }; before: View | null; after: View }>;
    const halting = steps.find((s) => s.event.type === 'DeviceFailed' && s.before?.state === 'rolling' && s.after.state === 'halted')!;
    const inFlightBefore = halting.before!.rings.find((g) => g.name === 'pilot')!.inFlight;
    expect(halting.after.rings.find((g) => g.name === 'pilot')).toMatchObject({ inFlight: 0, withdrawn: inFlightBefore - 1 });
    expect(halted.halt).toMatchObject({ ring: 'pilot', atHalt: { inFlight: inFlightBefore - 1 } });
    expect(r.out).toContain(`    When it halted, pilot had `);
    expect(r.out).toContain(` and ${inFlightBefore - 1} in flight.\n`);
    expect(status.rollouts.filter((x) => x.state !== 'halted').every((x) => x.halt === null && x.rings.every((g) => g.withdrawn === 0))).toBe(true);
    // A timeline file is read line by line: the first bad line fails the command with its number.
    const lines = (await readFile(log, 'utf8')).split('\n');
    lines[41] = lines[41]!.replace('"version":', '"verzion":');
    const bad = join(dir, 'status-bad.jsonl');
    await writeFile(bad, lines.join('\n'));
    expect(await cli('status', bad)).toMatchObject({ code: 1, err: expect.stringMatching(/line 42: /) });
    // Only there: the rollouts that went on (or completed) say nothing of the kind.
    expect(r.out.match(/When it halted/g)).toHaveLength(status.rollouts.filter((x) => x.state === 'halted').length);
  });

  it('summarises from the log: states, reboots, rollbacks, and what to try next', async () => {
    const r = await cli('demo', '--devices', '60', '--out', join(dir, 'again'), '--json');
    const summary = JSON.parse(r.out);
    expect(summary.devices).toBe(60);
    expect(Object.values(summary.states as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(60);
    expect(summary.reboots.baseline).toBe(60);
    expect(summary.patches['HP-2026-02'].rolledBack).toBeGreaterThan(0);
    expect(summary.patches['HP-2026-03'].rolledBack).toBe(0);
    const text = (await cli('demo', '--devices', '60', '--out', join(dir, 'text'))).out;
    expect(text).toMatch(/Reboots: \d+ in the quarter/);
    expect(text).toMatch(/HP-2026-02 +HALTED by itself in the pilot ring: 1 of 6 devices failed \(budget 0\)(, \d+ more after the halt)?; \d+ devices rolled back live; the broad ring \(54 devices\) never received it/);
    expect(text).toMatch(/pnpm hotpatch status --store sqlite:.*hotpatch\.db/);
    expect(text).toMatch(/pnpm hotpatch history --store sqlite:.*hotpatch\.db --rollout HP-2026-02 +# why it halted/);
    // The what-if it suggests runs as printed: a pilot that tolerates more lets February's bad hotpatch further.
    const whatif = /pnpm hotpatch (whatif --store \S+ --policy \S+policy-lenient-pilot\.json) +# had the pilot tolerated more failures/.exec(text);
    expect(whatif).not.toBeNull();
    const answer = await cli(...whatif![1]!.split(' '));
    expect(answer.code).toBe(0);
    expect(answer.out).toMatch(/\n {2}HP-2026-02 {3}<- ends differently\n {4}recorded: halted [^\n]*: pilot: failures past the disruption budget \(\d+ > 0\)/);
    // Pilot devices rolled back at the halt before their health check reported: their health is estimated.
    expect(answer.out).toMatch(/\d+ health verdicts drawn with the release's estimated failure share/);
    expect(answer.out).toMatch(/Estimated health \(Aalen–Johansen[^\n]*\n {2}HP-2026-02: \d+ of \d+ verdicts failed, \d+ devices unwatched before theirs: failure share \d+(\.\d)?% \(90% interval \d+(\.\d)?%–\d+(\.\d)?%/);
    expect(answer.out).toMatch(/For the bounds: --unrecorded other-devices \(pessimistic\) and --unrecorded ordinary \(optimistic\)/);
  });

  it('is deterministic: the same seed writes the same log, byte for byte', async () => {
    await cli('demo', '--devices', '60', '--out', join(dir, 'same'));
    expect(await readFile(join(dir, 'same', 'events.jsonl'), 'utf8')).toBe(await readFile(log, 'utf8'));
    await cli('demo', '--devices', '60', '--out', join(dir, 'other'), '--seed', '2');
    expect(await readFile(join(dir, 'other', 'events.jsonl'), 'utf8')).not.toBe(await readFile(log, 'utf8'));
  });

  it('replays one device at a time or position, as JSON in the documented shape', async () => {
    const device = JSON.parse((await cli('replay', log, '--device', 'dev-00001', '--json')).out);
    expect(Object.keys(device)).toEqual(['device', 'state', 'baseline', 'patches', 'inFlight', 'version', 'time']);
    const early = JSON.parse((await cli('replay', log, '--device', 'dev-00001', '--at', '2026-01-02T00:00:00Z', '--json')).out);
    expect(early).toMatchObject({ device: 'dev-00001', baseline: 'B-2025-10', patches: [], version: 2 });
    const first = JSON.parse((await cli('replay', log, '--position', '1', '--json')).out);
    expect(first).toEqual([expect.objectContaining({ state: 'enrolled', version: 1 })]);
  });

  it('shows a device’s history with the state before and after each event', async () => {
    const steps = JSON.parse((await cli('history', log, '--device', 'dev-00002', '--json')).out) as Array<{ before: { state: string } | null; after: { state: string } }>;
    expect(steps[0]!.before).toBeNull();
    expect(steps[0]!.after.state).toBe('enrolled');
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.before!.state).toBe(steps[i - 1]!.after.state);
    expect((await cli('history', log, '--device', 'dev-00002')).out).toMatch(/enrolled → current/);
  });

  it('shows why a rollout halted: its events, its state before and after, and what each changed', async () => {
    const text = (await cli('history', log, '--rollout', 'HP-2026-02')).out;
    const halting = text.split('\n').filter((l) => / rolling → halted /.test(l));
    expect(halting).toHaveLength(1);
    expect(halting[0]).toMatch(/DeviceFailed .*pilot: in flight \d+→0, failed 0→1, withdrawn 0→\d+ \(budget 0\); halted: pilot: failures past the disruption budget \(1 > 0\)/);
    expect(text).toMatch(/RingStarted +betweenRings → rolling +pilot started: 6 devices, budget 0/);
    expect(text).toMatch(/\nrollout HP-2026-02: halted — pilot: failures past the disruption budget \(1 > 0\)\n {2}ring +devices +budget +started +in flight +succeeded +failed +set aside +withdrawn +gate\n.*\n {2}pilot +6 +0 +2026-02-10 17:00 +0 +\d+ +\d+ +0 +\d+ +-\n {2}broad +- +- +- +0 +0 +0 +0 +0 +-\n {2}When it halted, pilot had 0 succeeded, 1 failed \(budget 0\), 0 set aside and \d+ in flight\./);
    const steps = JSON.parse((await cli('history', log, '--rollout', 'HP-2026-02', '--json')).out) as Array<{ event: { type: string }; before: { state: string } | null; after: { state: string; rings: Array<{ name: string; failed: number }> } }>;
    expect(steps[0]).toMatchObject({ event: { type: 'RolloutPlanned' }, before: null, after: { state: 'betweenRings' } });
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.before!.state).toBe(steps[i - 1]!.after.state);
    expect(steps.at(-1)!.after).toMatchObject({ state: 'halted', rings: [{ name: 'pilot', failed: 1 }, { name: 'broad', failed: 0 }] });
    // A completed rollout, and one that is not in the log.
    const completed = (await cli('history', log, '--rollout', 'HP-2026-03')).out;
    expect(completed).toMatch(/GatePassed +rolling → betweenRings +pilot: gate passed/);
    expect(completed).toMatch(/\nrollout HP-2026-03: completed\n/);
    const missing = await cli('history', log, '--rollout', 'HP-1999-01');
    expect(missing).toMatchObject({ code: 1, err: expect.stringMatching(/rollout HP-1999-01 has no events in/) });
  });
});

describe('hotpatch verify on a hand-written timeline', () => {
  const line = (version: number, type: string, data: object, id = version) =>
    JSON.stringify({ id: `0193f2a0-0000-7000-8000-${String(id).padStart(12, '0')}`, stream: 'device/lab-1', version, type, time: `2026-02-10T14:0${version}:00.000Z`, data });
  const good = [
    line(1, 'DeviceEnrolled', { edition: 'Enterprise E3', build: '26100.2000', arch: 'x64', vbs: true, tpm2: true, secureBoot: true, chpeDisabled: false, ring: 'pilot', baseline: 'B1' }),
    line(2, 'EligibilityAssessed', { eligible: true, reasons: [] }),
    line(3, 'PatchStaged', { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true }),
    line(4, 'PatchApplyStarted', { patch: 'P1' }),
  ];

  it('passes when every line is right', async () => {
    const file = join(dir, 'good.jsonl');
    await writeFile(file, good.join('\n') + '\n');
    // Without hashes, all but integrity is checked, and the first line says so (--json too).
    expect(await cli('verify', file)).toMatchObject({
      code: 0,
      out: 'integrity NOT checked: no event carries a hash, so an event changed, removed or inserted cannot be seen\nok: 4 events in 1 streams, every transition allowed',
    });
    expect(JSON.parse((await cli('verify', file, '--json')).out)).toMatchObject({ ok: true, hashed: false, integrity: 'not checked' });
  });

  it.each([
    ['a malformed line', '{"id":', /^line 3: not valid JSON/],
    ['a mistyped field', line(3, 'PatchStaged', { patch: 'P1', baseline: 'B1', requires: 'P0', liveRevert: true }), /^line 3: device\/lab-1@3: data\.requires: expected an array of non-empty strings, got "P0"$/],
    ['an unknown event type', line(3, 'PatchTeleported', { patch: 'P1' }), /^line 3: device\/lab-1@3: type: unknown device event type "PatchTeleported"/],
    ['a refused transition', line(3, 'PatchApplied', { patch: 'P1' }), /^line 3: device\/lab-1@3: PatchApplied refused in state 'current'; accepted here: PatchStaged, EligibilityAssessed, RebootRequired, DeviceRetired/],
    ['a repeated id', line(3, 'PatchStaged', { patch: 'P1', baseline: 'B1', requires: [], liveRevert: true }, 1), /^line 3: device\/lab-1@3: id: id .* repeats the event at line 1/],
  ])('fails on %s, naming that line', async (_what, bad, message) => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, [good[0], good[1], bad].join('\n') + '\n');
    const r = await cli('verify', file);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toMatch(/^integrity NOT checked/);
    expect(r.out.split('\n')[1]).toMatch(message);
    expect(r.err).toMatch(/1 problem/);
  });

  it('replay refuses an invalid timeline with exit 1 and the line', async () => {
    const file = join(dir, 'gap.jsonl');
    await writeFile(file, [good[0], good[2]].join('\n') + '\n');
    const r = await cli('replay', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/line 2 device\/lab-1@3: version: version 3 leaves a gap; expected 2/);
  });
});

describe('usage', () => {
  it.each([
    [['nope'], /unknown command "nope"/],
    [['replay'], /missing timeline file/],
    [['replay', 'a.jsonl', 'b.jsonl'], /one timeline file expected/],
    [['replay', 'x.jsonl', '--at', 'yesterday'], /--at: expected an ISO-8601 UTC time/],
    [['replay', 'x.jsonl', '--at', '2026-01-01T00:00:00Z', '--position', '3'], /cannot be used together/],
    [['replay', join(dir, 'missing.jsonl')], /no such file/],
    // A missing path that looks like a store of another kind is told how stores are given.
    [['status', '--store', 'mysql:x.db'], /^hotpatch status: no such file: mysql:x\.db \(a store is given as sqlite:PATH or postgres:\/\/…; anything else is a timeline file's path\)\n/],
    [['history', 'x.jsonl'], /one of --device ID, --rollout ID or --ring NAME is required/],
    [['history', 'x.jsonl', '--device', 'd', '--rollout', 'r'], /--device and --rollout: give one of them, not both/],
    [['history', 'x.jsonl', '--device', 'd', '--rollout', 'r', '--ring', 'g'], /give one of them, not several/],
    [['pause', '--store', 'sqlite:x.db', '--rollout', 'r', '--ring', 'g', '--by', 'tenant', '--reason', 'x'], /--rollout and --ring: give one of them, not both/],
    [['verify', '--store', 'postgres://[bad'], /--store: not a valid PostgreSQL URL/],
    [['demo', '--devices', '0'], /--devices: expected a whole number/],
    [['verify', 'x.jsonl', '--frobnicate'], /Unknown option '--frobnicate'/],
    // Node's message in several lines, said in one.
    [['simulate', '--devices', '-5'], /argument is ambiguous\. Did you forget to specify the option argument for '--devices'\? To specify/],
  ])('%j exits 2 with the reason and the usage', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('prints help for every command and exits 0', async () => {
    expect((await cli('--help')).out).toMatch(/Commands:\n {2}demo/);
    for (const name of ['demo', 'replay', 'history', 'verify']) {
      const r = await cli(name, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^hotpatch ${name}`));
    }
    expect((await cli()).code).toBe(2);
  });
});

describe('the hotpatch binary', () => {
  it('runs as a real process with the documented exit codes', async () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
    const run = promisify(execFile);
    const bin = join(root, 'packages/cli/dist/bin.js');
    const ok = await run(process.execPath, [bin, 'verify', log]);
    expect(ok.stdout).toMatch(/^ok: /);
    const usage = await run(process.execPath, [bin, 'replay']).catch((e: { code: number; stderr: string }) => e);
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringMatching(/missing timeline file/) });
  });
});

describe('hotpatch check', () => {
  it('reports every invariant holding, no deadlock and full coverage on the default scenario', async () => {
    const r = await cli('check');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/— complete/);
    expect(r.out).toMatch(/✓ rollbackRestoresRestorePoint/);
    expect(r.out).not.toMatch(/✗/);
    expect(r.out).toMatch(/Deadlocks: none/);
    expect(r.out).toMatch(/Coverage: 13\/13 states, 47\/47 transitions/);
    const report = JSON.parse((await cli('check', '--json')).out);
    expect(report).toMatchObject({ ok: true, stats: { complete: true }, deadlocks: [], unrecoverable: [] });
    expect(report.invariants.every((i: { holds: boolean }) => i.holds === true)).toBe(true);
  });

  it('checks the rollout machine’s invariants on three devices', async () => {
    const r = await cli('check', '--machine', 'rollout');
    expect(r.code).toBe(0);
    for (const name of ['noRingBeforeGate', 'pausedOrHaltedInstructsNothing', 'failuresWithinBudget', 'tenantPauseNotLiftedByService']) expect(r.out).toMatch(new RegExp(`✓ ${name}`));
    expect(r.out).toMatch(/Coverage: 6\/6 states, 27\/27 transitions/);
    expect((await cli('check', '--machine', 'fleet')).code).toBe(2);
  });

  it('checks the ring machine’s pause invariants', async () => {
    const r = await cli('check', '--machine', 'ring', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ machine: 'ring', ok: true, stats: { complete: true }, coverage: { states: { total: 2, missing: [] }, transitions: { total: 4, reached: 4 } } });
    expect(report.invariants.map((i: { name: string; holds: boolean }) => `${i.name} ${i.holds}`)).toEqual(['pausedWhileHeld true', 'tenantPauseNotLiftedByService true', 'resumeLiftsOnlyOwnPause true']);
    expect((await cli('check', '--machine', 'ring', '--scenario', 'x.json')).code).toBe(2);
  });

  it('says when bounds left the search incomplete', async () => {
    const r = await cli('check', '--max-depth', '3');
    expect(r.out).toMatch(/INCOMPLETE: stopped by max-depth/);
    expect(r.out).toMatch(/\? appliedOnInstalledBaseline/);
    expect(r.out).toMatch(/Recoverability: not computed/);
  });

  it('reads a scenario file, and refuses a bad one with the reason', async () => {
    const good = join(dir, 'scenario.json');
    const tiny = { name: 'tiny', enrolledOn: 'B1', baselines: ['B1'], hotpatches: [{ id: 'H1', baseline: 'B1', liveRevert: false }], reboots: [] as object[] };
    // Without any reboot in its world, a failed patch that cannot be reverted live never recovers.
    await writeFile(good, JSON.stringify(tiny));
    const stuck = await cli('check', '--scenario', good);
    expect(stuck.code).toBe(1);
    expect(stuck.out).toMatch(/Recoverability: 2 states cannot reach a resting state\n {2}failed after DeviceEnrolled → EligibilityAssessed → PatchStaged → PatchApplyStarted → PatchApplyFailed/);
    await writeFile(good, JSON.stringify({ ...tiny, reboots: [{ reason: 'not-live-revertible' }] }));
    const r = await cli('check', '--scenario', good, '--json');
    expect(JSON.parse(r.out)).toMatchObject({ scenario: 'tiny', ok: true, unrecoverable: [] });
    const bad = join(dir, 'bad-scenario.json');
    await writeFile(bad, JSON.stringify({ name: 'bad', enrolledOn: 'B1', baselines: ['B1'], hotpatches: [{ id: 'H1', baseline: 'B9', liveRevert: true }], reboots: [] }));
    const refused = await cli('check', '--scenario', bad);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/hotpatches\[0\]\.baseline: B9 is not one of the baselines/);
  });
});
