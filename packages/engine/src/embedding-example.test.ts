/**
 * The README's embedding example, run as it is written, twice against the same database file (in a temporary
 * directory): the second run records nothing and throws nothing, its commands answered as duplicates.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';

let dir: string;
const cwd = process.cwd();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hotpatch-readme-'));
  process.chdir(dir);
});
afterEach(async () => {
  process.chdir(cwd);
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

it('the README example works as written, and run again records nothing twice', async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Embedding it')))![1]!;
  const file = join(dir, 'example.ts');
  await writeFile(file, example);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  await import(`${pathToFileURL(file).href}?run=1`);
  await import(`${pathToFileURL(file).href}?run=2`);
  expect(log.mock.calls).toEqual([
    ['staged', false],
    ['staged', true],
  ]);
  const store = openSqliteEventStore({ path: join(dir, 'fleet.db') });
  expect((await store.readAll()).map((e) => e.type)).toEqual(['DeviceEnrolled', 'EligibilityAssessed', 'PatchStaged']);
  await store.close();
});
