// Bundles TypeBox into one file, @hotpatch/core's dist/typebox.js (what src/typebox.ts re-exports), so that a process
// loads one module instead of ~700: run after `tsc -b` (the build, test, demo and bench scripts do). Bundled from the
// installed typebox package each time (never from the file it writes: an updated typebox is picked up), with its
// license. Without this step the file re-exports the package as it is: the same behaviour, a slower start.
import { build } from 'esbuild';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = fileURLToPath(new URL('../packages/core/', import.meta.url));
// The package as @hotpatch/core resolves it (its own node_modules: typebox exports no package.json to resolve).
const typebox = realpathSync(join(core, 'node_modules/typebox'));
const { version } = JSON.parse(readFileSync(join(typebox, 'package.json'), 'utf8'));
const license = readFileSync(join(typebox, 'license'), 'utf8').trim();
await build({
  // src/typebox.ts says what is exported (the same list as the file tsc writes there).
  stdin: { contents: readFileSync(join(core, 'src/typebox.ts'), 'utf8'), resolveDir: join(core, 'src'), sourcefile: 'typebox.ts', loader: 'ts' },
  outfile: join(core, 'dist/typebox.js'),
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  banner: { js: `/*!\n * TypeBox ${version}, bundled for @hotpatch/core (scripts/bundle-typebox.mjs).\n *\n${license.split('\n').map((l) => ` * ${l}`.trimEnd()).join('\n')}\n */` },
  logLevel: 'warning',
});
