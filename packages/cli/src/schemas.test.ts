import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { publishedSchemas } from './schemas.js';

const dir = new URL('../../../docs/schemas/', import.meta.url);

describe('docs/schemas', () => {
  it('holds the JSON Schemas the code checks with, and nothing else (run `pnpm docs:schemas` after changing a schema)', async () => {
    const published = publishedSchemas();
    expect((await readdir(dir)).sort()).toEqual(published.map((s) => s.file).sort());
    for (const { file, text } of published) expect(await readFile(new URL(file, dir), 'utf8'), file).toBe(text);
  });
});
