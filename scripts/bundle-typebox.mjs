// Bundles TypeBox into one file, @hotpatch/core's dist/typebox.js (the output of src/typebox.ts), so that a process
// loads one module instead of ~700: run after `tsc -b` (the build, test, demo and bench scripts do). Without it the
// file re-exports the package as it is: the same behaviour, a slower start.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../packages/core/dist/typebox.js', import.meta.url));
await build({ entryPoints: [file], outfile: file, allowOverwrite: true, bundle: true, format: 'esm', platform: 'node', target: 'node20', legalComments: 'inline', logLevel: 'warning' });
