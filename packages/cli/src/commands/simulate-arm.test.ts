import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type FleetPolicy } from '@hotpatch/fleet';
import { armWorker, inWorkers } from './simulate.js';

describe('simulate arms in worker threads', () => {
  const worker = armWorker();

  it('runs here: the worker entry is built (pnpm build)', () => {
    expect(worker).toBeDefined();
  });

  it('gives each arm’s result, with its progress, as the arm computed it', async () => {
    const progress: string[] = [];
    const [hot, trad] = await inWorkers(
      worker!,
      [
        { arm: 'hotpatch', devices: 12, months: 2, seed: 3, policy: DEFAULT_POLICY },
        { arm: 'traditional', devices: 12, months: 2, seed: 3, policy: DEFAULT_POLICY },
      ],
      (arm, p) => progress.push(`${arm} ${p.share}`),
    );
    expect(hot!.arm).toBe('hotpatch');
    expect(trad!.arm).toBe('traditional');
    expect(hot!.figures.devices).toBe(12);
    expect(progress).toContain('hotpatch 1');
    expect(progress).toContain('traditional 1');
  });

  it('one after the other when asked: the second arm starts once the first has finished', async () => {
    const progress: string[] = [];
    const jobs = [
      { arm: 'hotpatch', devices: 12, months: 2, seed: 3, policy: DEFAULT_POLICY },
      { arm: 'traditional', devices: 12, months: 2, seed: 3, policy: DEFAULT_POLICY },
    ] as const;
    const [hot, trad] = await inWorkers(worker!, jobs, (arm, p) => progress.push(`${arm} ${p.share}`), { sideBySide: false });
    expect([hot!.arm, trad!.arm]).toEqual(['hotpatch', 'traditional']);
    expect(progress.indexOf('hotpatch 1')).toBeLessThan(progress.findIndex((p) => p.startsWith('traditional')));
    // The same results as side by side.
    const [hot2, trad2] = await inWorkers(worker!, jobs, () => {});
    expect([hot2!.figures, trad2!.figures]).toEqual([hot!.figures, trad!.figures]);
  });

  it('fails with the failing arm named and its reason, and stops the other arm', async () => {
    const broken = { ...DEFAULT_POLICY, rings: 'not rings' } as unknown as FleetPolicy;
    const progress: string[] = [];
    await expect(
      inWorkers(
        worker!,
        [
          { arm: 'hotpatch', devices: 5, months: 1, seed: 1, policy: broken },
          // Half a minute of work: the failure must not wait for it.
          { arm: 'traditional', devices: 20_000, months: 12, seed: 1, policy: DEFAULT_POLICY },
        ],
        (arm, p) => progress.push(`${arm} ${p.share}`),
      ),
    ).rejects.toThrow(/^hotpatch arm: /);
    expect(progress).not.toContain('traditional 1');
  });
});
