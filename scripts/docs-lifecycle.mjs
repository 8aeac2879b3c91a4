// Rewrites docs/lifecycle.md from the machine definition (run after `tsc -b`).
import { writeFile } from 'node:fs/promises';
import { deviceLifecycle, lifecycleMarkdown } from '../packages/core/dist/index.js';

const target = new URL('../docs/lifecycle.md', import.meta.url);
await writeFile(target, lifecycleMarkdown(deviceLifecycle));
console.log(`wrote ${target.pathname}`);
