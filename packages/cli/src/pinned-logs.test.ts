/**
 * The logs the demo and a simulation write, pinned byte for byte: a change meant to keep behaviour (a refactoring)
 * keeps them. A change that means to alter what the orchestrator decides updates a pin in its own commit and says
 * why.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from './main.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-pinned-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('pinned logs', () => {
  it('the demo (200 devices, seed 1) writes the same timeline', async () => {
    const out = join(dir, 'demo');
    expect((await runCaptured(['demo', '--out', out])).code).toBe(0);
    expect(sha256(await readFile(join(out, 'events.jsonl'), 'utf8'))).toBe('9a77abdb6f8b75956b67efaa90509466cfd8e6ef8cff07f74c2daeec375f6fe5');
  }, 60_000);

  it('simulate --devices 500 --months 6 --seed 1 writes the same two logs', async () => {
    const db = join(dir, 'sim.db');
    expect((await runCaptured(['simulate', '--devices', '500', '--months', '6', '--seed', '1', '--store', `sqlite:${db}`])).code).toBe(0);
    const hotpatch = await runCaptured(['export', '--store', `sqlite:${db}`]);
    const traditional = await runCaptured(['export', '--store', `sqlite:${join(dir, 'sim.traditional.db')}`]);
    expect(sha256(hotpatch.out + '\n')).toBe('b62fad5d667acaf3af077950800b6ed5ef8288597b3e2a3feff5e5b78978b500');
    expect(sha256(traditional.out + '\n')).toBe('dbd704d298203e1da511a7a371412333567d3633a37c5a1a651e7d8e2e50190e');
  }, 120_000);
});
