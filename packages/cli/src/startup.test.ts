/**
 * What the CLI loads to start: the service's package (Fastify, its plugins, prom-client) and the PostgreSQL leases
 * only for the commands that use them, so that `hotpatch --version`, `demo` or `status` start without them (they were
 * 40% of every command's start-up).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const server = fileURLToPath(new URL('../../server/dist/index.js', import.meta.url));
const run = promisify(execFile);

/** The CommonJS modules (Fastify and its kin are CommonJS) loaded once the CLI's module is imported, and `then` run. */
async function loadedAfter(then: string): Promise<string[]> {
  const script = `import { createRequire } from 'node:module';
const { main } = await import(${JSON.stringify(main)});
${then}
process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout) as string[];
}

const heavy = (modules: string[]) => modules.filter((m) => /[\\/]node_modules[\\/](\.pnpm[\\/])?(fastify|@fastify|prom-client|pino)/.test(m)).length;

describe('start-up', () => {
  it('loads no part of the service for a command that does not serve', async () => {
    expect(heavy(await loadedAfter("await main(['--version'], { out() {}, err() {}, isTTY: false });"))).toBe(0);
  });

  it('loads it when asked to (the check can fail)', async () => {
    expect(heavy(await loadedAfter(`await import(${JSON.stringify(server)});`))).toBeGreaterThan(0);
  });
});
