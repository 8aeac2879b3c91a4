import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run on the workspace's TypeScript sources, so they never run a stale build: `@hotpatch/<name>` resolves to
// packages/<name>/src/index.ts here, where a user's resolver reads the package.json's exports (the built dist).
// `@hotpatch/core/testing` (fast-check arbitraries) exists only here: it is not published.
const packages = fileURLToPath(new URL('packages/', import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@hotpatch\/core\/testing$/, replacement: `${packages}core/src/testing/index.ts` },
      { find: /^@hotpatch\/store\/conformance$/, replacement: `${packages}store/src/conformance.ts` },
      { find: /^@hotpatch\/([a-z-]+)$/, replacement: `${packages}$1/src/index.ts` },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: one on a 2-core machine, where the files then run one after
    // another while many of them wait (on a child process, PostgreSQL, a timer) with a core idle. Two at least.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    globalSetup: ['test/build.global.ts'],
  },
});
