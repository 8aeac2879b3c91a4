/**
 * `hotpatch check` with invariants of your own (a scenario's `invariants`, `--invariants FILE`): listed with the
 * built-in ones, proven or violated, a violation's timeline replaying to it; a bad one refused in one line, exit 1
 * (as a bad scenario or policy file), nothing written.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-check-invariants-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const cli = (...argv: string[]) => runCaptured(argv);
const policy = resolve(fileURLToPath(import.meta.url), '../../../check/scenarios/policy-default.json');
const file = async (name: string, value: unknown) => {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(value));
  return path;
};
const exists = (path: string) => access(path).then(() => true, () => false);

interface Listed {
  name: string;
  custom: boolean;
  holds: boolean | null;
  message?: string;
  timeline?: string;
}

/** The devices a timeline leaves in each state, by ring (`pilot applied`). */
async function replayed(timeline: string): Promise<Record<string, number>> {
  const r = await cli('replay', timeline, '--json');
  expect(r.code).toBe(0);
  const out: Record<string, number> = {};
  for (const d of JSON.parse(r.out) as Array<{ device: string; state: string }>) {
    const key = `${d.device.replace(/-\d+$/, '')} ${d.state}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe('hotpatch check: your own invariants', () => {
  it('checks a scenario’s and a file’s invariants on the device machine, lists them with the built-in ones, and writes the violation’s timeline', async () => {
    const scenario = await file('scenario.json', {
      name: 'tiny',
      device: 'dev',
      enrolledOn: 'B1',
      baselines: ['B1'],
      hotpatches: [{ id: 'H1', baseline: 'B1', liveRevert: true }],
      reboots: [],
      retirement: false,
      invariants: [{ kind: 'never', state: 'retired' }],
    });
    const extra = await file('device-invariants.json', { invariants: [{ kind: 'never', state: 'rolledBack', name: 'noRollback' }] });
    const out = join(dir, 'device-out');
    const text = await cli('check', '--scenario', scenario, '--invariants', extra, '--continue', '--out', out);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/✓ never-retired +No device retired, ever\. \(yours\)/);
    expect(text.out).toMatch(/✗ noRollback +No device rolledBack, ever\. \(yours\)/);
    expect(text.out).toMatch(/✓ retiredIsFinal/);
    const r = await cli('check', '--scenario', scenario, '--invariants', extra, '--continue', '--out', out, '--json');
    const listed = (JSON.parse(r.out) as { invariants: Listed[] }).invariants;
    expect(listed.length).toBe(11);
    expect(listed.filter((i) => !i.custom).every((i) => i.holds === true)).toBe(true);
    expect(listed.filter((i) => i.custom).map((i) => [i.name, i.holds, i.message])).toEqual([
      ['never-retired', true, undefined],
      ['noRollback', false, 'the device is rolledBack'],
    ]);
    const timeline = listed.find((i) => i.name === 'noRollback')!.timeline!;
    expect(timeline).toMatch(/noRollback\.jsonl$/);
    expect(await replayed(timeline)).toEqual({ 'dev rolledBack': 1 });
    const history = await cli('history', timeline, '--device', 'dev');
    expect(history.out).toMatch(/rolledBack/);
  });

  it('checks a file’s invariants in a policy’s blast radius, lists them with the built-in ones, and the violation’s timeline replays to it', async () => {
    const invariants = await file('policy-invariants.json', {
      invariants: [
        { kind: 'atMost', ring: 'pilot', state: 'applied', count: 2 },
        { kind: 'leavesWithin', state: 'applied', hours: 48 },
        { kind: 'never', ring: 'pilot', state: 'waiting' },
      ],
    });
    const out = join(dir, 'policy-out');
    const r = await cli('check', '--policy', policy, '--ring-sizes', 'pilot=3,broad=5', '--invariants', invariants, '--out', out, '--json');
    expect(r.code).toBe(1);
    const listed = (JSON.parse(r.out) as { invariants: Listed[] }).invariants;
    expect(listed.filter((i) => !i.custom).map((i) => i.holds)).toEqual([true, true, true, true, true, true, true]);
    expect(listed.filter((i) => i.custom).map((i) => [i.name, i.holds, i.message ?? null])).toEqual([
      ['atMost-pilot-applied-2', false, '3 devices of pilot applied at once'],
      ['leavesWithin-applied-48h', true, null],
      ['never-pilot-waiting', false, '3 device(s) of pilot waiting at 2026-02-10T17:00:00.000Z'],
    ]);
    const atMost = listed.find((i) => i.name === 'atMost-pilot-applied-2')!.timeline!;
    expect(atMost).toMatch(/blast-atMost-pilot-applied-2\.jsonl$/);
    expect(await replayed(atMost)).toEqual({ 'pilot applied': 3, 'broad current': 5 });
    // Violated before anything happened: the fleet as the release finds it.
    expect(await replayed(listed.find((i) => i.name === 'never-pilot-waiting')!.timeline!)).toEqual({ 'pilot current': 3, 'broad current': 5 });
    const text = await cli('check', '--policy', policy, '--ring-sizes', 'pilot=3,broad=5', '--invariants', invariants, '--out', out);
    expect(text.out).toMatch(/✗ atMost-pilot-applied-2 +3 devices of pilot applied at once \(yours\) +timeline: .*blast-atMost-pilot-applied-2\.jsonl \(4 steps\)/);
    expect(text.out).toMatch(/✓ leavesWithin-applied-48h +No device stays applied longer than 48 h\. \(yours\)/);
    expect(text.out).toMatch(/✓ noRingBeforeGate/);
  });

  const refusals: Array<[string, object, string, string]> = [
    ['an unknown kind', { kind: 'sometimes', state: 'applied' }, 'invariants[0].kind', 'expected one of "atMost", "never", "leavesWithin", got "sometimes"'],
    ['an unknown ring', { kind: 'atMost', ring: 'canary', state: 'applied', count: 1 }, 'invariants[0].ring', 'canary is not a ring of the policy (pilot, broad)'],
    ['an unknown state', { kind: 'never', state: 'patched' }, 'invariants[0].state', 'patched is not a device state of the policy model (waiting, applying, applied, verified, failed, setAside)'],
    ['a negative count', { kind: 'atMost', state: 'applied', count: -1 }, 'invariants[0].count', 'expected a whole number ≥ 0, got number -1'],
  ];
  for (const [what, spec, path, problem] of refusals) {
    it(`refuses ${what} in one line naming the path, exit 1, writing nothing`, async () => {
      const invariants = await file('bad.json', { invariants: [spec] });
      const out = join(dir, 'never-written');
      const r = await cli('check', '--policy', policy, '--ring-sizes', 'pilot=3,broad=5', '--invariants', invariants, '--out', out);
      expect(r).toMatchObject({ code: 1, out: '', err: `hotpatch check: ${invariants}: ${path}: ${problem}` });
      expect(await exists(out)).toBe(false);
    });
  }

  it('checks a policy file’s own invariants with --invariants’s, each name used once across both; other commands check their shape only', async () => {
    const base = JSON.parse(await readFile(policy, 'utf8')) as Record<string, unknown>;
    const own = await file('policy-with-invariants.json', { ...base, invariants: [{ kind: 'atMost', ring: 'pilot', state: 'applied', count: 2 }] });
    const out = join(dir, 'policy-own-out');
    const r = await cli('check', '--policy', own, '--ring-sizes', 'pilot=3,broad=5', '--out', out, '--json');
    expect(r.code).toBe(1);
    const listed = (JSON.parse(r.out) as { invariants: Listed[] }).invariants;
    expect(listed.filter((i) => i.custom).map((i) => [i.name, i.holds])).toEqual([['atMost-pilot-applied-2', false]]);
    expect(await replayed(listed.find((i) => i.custom)!.timeline!)).toEqual({ 'pilot applied': 3, 'broad current': 5 });
    // Both sources: listed in order, the file's after the policy's; the same name in both is refused, naming the second.
    const more = await file('more.json', { invariants: [{ kind: 'never', ring: 'pilot', state: 'failed' }] });
    const both = (JSON.parse((await cli('check', '--policy', own, '--ring-sizes', 'pilot=3,broad=5', '--invariants', more, '--out', out, '--json')).out) as { invariants: Listed[] }).invariants;
    expect(both.filter((i) => i.custom).map((i) => i.name)).toEqual(['atMost-pilot-applied-2', 'never-pilot-failed']);
    const again = await file('again.json', { invariants: [{ kind: 'atMost', ring: 'pilot', state: 'applied', count: 2 }] });
    expect(await cli('check', '--policy', own, '--ring-sizes', 'pilot=3,broad=5', '--invariants', again, '--out', join(dir, 'never-written'))).toMatchObject({ code: 1, out: '' });
    expect((await cli('check', '--policy', own, '--ring-sizes', 'pilot=3,broad=5', '--invariants', again)).err).toMatch(new RegExp(`^hotpatch check: ${again.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invariants\\[0\\]: .*atMost-pilot-applied-2`));
    // simulate reads the policy and leaves the invariants aside; a malformed one is refused in one line naming it.
    expect((await cli('simulate', '--devices', '20', '--months', '1', '--policy', own, '--json')).code).toBe(0);
    const bad = await file('policy-bad-invariant.json', { ...base, invariants: [{ kind: 'atMost', state: 'applied', count: -1 }] });
    expect(await cli('simulate', '--devices', '20', '--months', '1', '--policy', bad)).toMatchObject({ code: 1, out: '', err: `hotpatch simulate: ${bad}: invariants[0].count: expected a whole number ≥ 0, got number -1` });
  });

  it('refuses in a scenario what a scenario cannot check, and --invariants where it does not apply', async () => {
    const out = join(dir, 'never-written');
    const scenario = await file('bad-scenario.json', { name: 't', enrolledOn: 'B1', baselines: ['B1'], hotpatches: [], reboots: [], invariants: [{ kind: 'atMost', state: 'applied', count: 1 }] });
    expect(await cli('check', '--scenario', scenario, '--out', out)).toMatchObject({
      code: 1,
      err: `hotpatch check: ${scenario}: invariants[0].kind: atMost applies to policy checks only: a scenario has one device (use never)`,
    });
    const invariants = await file('device-bad.json', { invariants: [{ kind: 'never', state: 'waiting' }] });
    expect((await cli('check', '--invariants', invariants, '--out', out)).err).toMatch(/invariants\[0\]\.state: waiting is not a state of the device machine \(unenrolled, /);
    expect(await exists(out)).toBe(false);
    expect((await cli('check', '--machine', 'rollout', '--invariants', invariants)).code).toBe(2);
  });
});
