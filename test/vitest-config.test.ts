/**
 * The suite's own settings: at least two test files at a time. vitest's default (one worker fewer than the cores)
 * is one on a 2-core machine, and the suite then waits on every child process, PostgreSQL query and timer in turn.
 */
import { availableParallelism } from 'node:os';
import { expect, it } from 'vitest';
import config from '../vitest.config.js';

it('runs at least two test files at a time, and never fewer than vitest would', () => {
  expect(config.test?.maxWorkers).toBeGreaterThanOrEqual(2);
  expect(config.test?.maxWorkers).toBeGreaterThanOrEqual(availableParallelism() - 1);
});
