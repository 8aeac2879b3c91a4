/** hotpatch report's refusals: one line, the right exit code, and no file written. */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-report-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const out = join(dir, 'r.html');

describe('hotpatch report refuses', () => {
  beforeAll(async () => {
    expect(await runCaptured(['demo', '--out', dir])).toMatchObject({ code: 0 });
  });
  const log = () => join(dir, 'events.jsonl');

  it.each([
    [['--fleet', '--rollout', 'HP-2026-02'], 2, '--rollout and --fleet: give one of them'],
    [[], 2, 'one of --rollout ID, --device ID or --fleet is required'],
    [['--fleet', '--from', 'yesterday'], 2, '--from: expected an ISO-8601 UTC time'],
    [['--fleet', '--from', '2026-03-01T00:00:00Z', '--to', '2026-02-01T00:00:00Z'], 2, 'is not before --to'],
    [['--rollout', 'HP-2099-01'], 1, 'rollout HP-2099-01 has no events in'],
    [['--device', 'dev-99999'], 1, 'device dev-99999 has no events in'],
  ])('%j: exit %i, one line', async (argv, code, line) => {
    const run = await runCaptured(['report', log(), ...argv, '--out', out]);
    expect(run.code).toBe(code);
    expect(run.err).toContain(line);
    expect(run.err.split('\n')[0]).toContain(line);
    expect(existsSync(out)).toBe(false);
  });

  it('names --whatif, the flag given, when its policy file cannot be read', async () => {
    const run = await runCaptured(['report', log(), '--fleet', '--whatif', join(dir, 'missing.json'), '--out', out]);
    expect(run).toMatchObject({ code: 2 });
    expect(run.err.split('\n')[0]).toBe(`hotpatch report: --whatif: cannot read ${join(dir, 'missing.json')}`);
    expect(existsSync(out)).toBe(false);
  });

  // The report read whole, then written over the file it was read from: the log (or the policy) gone, HTML in its place.
  it.each([
    ['the timeline file it reads', (copy: string) => [copy, '--fleet'], 'events.jsonl'],
    ['the SQLite store it reads', (copy: string) => ['--store', `sqlite:${copy}`, '--fleet'], 'hotpatch.db'],
    ['the --whatif policy', (copy: string) => [log(), '--rollout', 'HP-2026-02', '--whatif', copy], 'policy-lenient-pilot.json'],
  ])('--out naming %s: exit 2, that file as it was', async (_what, argv, file) => {
    const copy = join(dir, `copy-${file}`);
    await copyFile(join(dir, file), copy);
    const before = await readFile(copy);
    const run = await runCaptured(['report', ...argv(copy), '--out', copy]);
    expect(run).toMatchObject({ code: 2 });
    expect(run.err.split('\n')[0]).toBe(`hotpatch report: --out ${copy} is the file the report reads`);
    expect((await readFile(copy)).equals(before)).toBe(true);
  });

  // A window that opens after the data it would show ends: an empty page, offsets before its start.
  it.each([
    [['--rollout', 'HP-2026-02', '--from', '2026-03-01T00:00:00Z'], 'rollout HP-2026-02'],
    [['--fleet', '--from', '2027-01-01T00:00:00Z'], 'the fleet'],
    [['--device', 'dev-00005', '--from', '2027-01-01T00:00:00Z'], 'device dev-00005'],
  ])('%j: exit 1, one line, nothing written', async (argv, what) => {
    const run = await runCaptured(['report', log(), ...argv, '--out', out]);
    expect(run).toMatchObject({ code: 1 });
    expect(run.err.split('\n')[0]).toMatch(new RegExp(`^hotpatch report: --from ${argv.at(-1)} is not before the end of ${what}'s time axis \\(.+\\): give an earlier --from, or a --to after it$`));
    expect(existsSync(out)).toBe(false);
  });
});

describe('hotpatch report of a file without hashes', () => {
  it('says first that its integrity was not checked, as status says it, and writes the report', async () => {
    expect(await runCaptured(['demo', '--out', join(dir, 'd2')])).toMatchObject({ code: 0 });
    const unhashed = join(dir, 'unhashed.jsonl');
    const lines = (await readFile(join(dir, 'd2', 'events.jsonl'), 'utf8')).split('\n').filter(Boolean);
    await writeFile(unhashed, lines.map((l) => { const { hash: _h, ...e } = JSON.parse(l); return JSON.stringify(e); }).join('\n') + '\n');
    for (const subject of [['--fleet'], ['--rollout', 'HP-2026-02']]) {
      const run = await runCaptured(['report', unhashed, ...subject, '--out', join(dir, 'u.html')]);
      expect(run.code).toBe(0);
      expect(run.err).toBe(`note: ${unhashed} carries no hashes: its integrity was NOT checked (an event changed, removed or inserted cannot be seen)`);
    }
  });
});
