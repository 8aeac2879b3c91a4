// Rewrites docs/schemas/ from the schemas the code checks with (run after `tsc -b`).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { publishedSchemas } from '../packages/cli/dist/schemas.js';

const dir = new URL('../docs/schemas/', import.meta.url);
await mkdir(dir, { recursive: true });
const published = publishedSchemas();
for (const file of await readdir(dir)) if (!published.some((s) => s.file === file)) await rm(new URL(file, dir));
for (const { file, text } of published) await writeFile(new URL(file, dir), text);
console.log(`wrote ${published.map((s) => s.file).join(', ')} in ${dir.pathname}`);
