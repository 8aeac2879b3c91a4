/** `serve --id-key FILE`: made once, owner-only, read the same afterwards; a file too short or unreadable, one line. */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { explain } from './main.js';
import { IdKeyFileError, loadIdKey } from './id-key.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpatch-id-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('makes the key on first use, readable by its owner alone, and reads the same key afterwards', async () => {
  const path = join(dir, 'id.key');
  const first = await loadIdKey(path);
  expect(first.made).toBe(true);
  expect(first.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(await loadIdKey(path)).toEqual({ key: first.key, made: false });
});

it('refuses a key too short, or a file it cannot make, in one line', async () => {
  const short = join(dir, 'short.key');
  writeFileSync(short, 'abc\n');
  await expect(loadIdKey(short)).rejects.toThrow(IdKeyFileError);
  const error = await loadIdKey(join(dir, 'missing', 'id.key')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IdKeyFileError);
  expect(explain(error)).toMatchObject({ code: 3, line: expect.stringMatching(/^--id-key .*missing.*: cannot make it/) });
});
