/** hotpatch report's refusals: one line, the right exit code, and no file written. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
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
});
