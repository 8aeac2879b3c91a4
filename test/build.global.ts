/**
 * Builds the packages once, before any test runs: tests that start the CLI or a store in a process of their own run
 * the compiled `dist`, and several building it at once in parallel forks would write it under each other's feet.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', join(root, 'packages/cli')], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'scripts/bundle-typebox.mjs')], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'scripts/bundle-report-page.mjs')], { stdio: 'inherit' });
}
