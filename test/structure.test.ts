/**
 * The layout the architecture promises: no module imports itself back, through any chain of relative imports
 * (type-only ones included: a cycle of types is still two modules that cannot be read apart), and the packages'
 * own dependencies point one way; and no file of code (tests, benchmarks and scripts included) is longer than about
 * 400 lines, so that each can be read in one sitting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const MAX_LINES = 450;
const CODE = /\.(ts|mts|mjs|js)$/;
const NOT_OURS = new Set(['node_modules', 'dist', '.git', 'coverage']);

/** Every file of code in the repository that is ours (not dependencies, not build output, not bundles made from them). */
function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (NOT_OURS.has(entry.name) || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return codeFiles(path);
    return CODE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The relative modules a file imports or re-exports, `import type` and `import('…')` included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    found.add(resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts')));
  }
  return [...found];
}

/** Every cycle's first occurrence, as the chain of files that closes it. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe('the structure', () => {
  it('has no import cycle between the modules of a package', () => {
    const graph = new Map<string, string[]>();
    for (const pkg of packages) for (const file of sourceFiles(join(packagesDir, pkg, 'src'))) graph.set(file, importsOf(file));
    expect(cycles(graph).map((c) => c.map((f) => relative(packagesDir, f)).join(' → '))).toEqual([]);
  });

  it('has no cycle between the packages', () => {
    const graph = new Map<string, string[]>();
    for (const pkg of packages) {
      const manifest = JSON.parse(readFileSync(join(packagesDir, pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      graph.set(pkg, Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@hotpatch/')).map((d) => d.slice('@hotpatch/'.length)));
    }
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('has no file of code longer than ~400 lines (at most 450), tests, benchmarks and scripts included', () => {
    const tooLong = codeFiles(root)
      .map((file) => [relative(root, file), readFileSync(file, 'utf8').split('\n').length - 1] as const)
      .filter(([, lines]) => lines > MAX_LINES)
      .map(([file, lines]) => `${file}: ${lines} lines`);
    expect(tooLong).toEqual([]);
  });

  it('writes stream-name prefixes in one place (core/src/stream-name.ts): no other module spells them out', () => {
    const own = join(packagesDir, 'core', 'src', 'stream-name.ts');
    // A prefix alone ('device/') or starting a template (`device/${id}`; a doc comment's `device/` is no code).
    const literal = /(['"])(device|rollout|ring|token|seal|tenant)\/\1|`(device|rollout|ring|token|seal|tenant)\/\$\{/;
    const found = packages
      .flatMap((pkg) => sourceFiles(join(packagesDir, pkg, 'src')))
      .filter((file) => file !== own && !file.includes(`${join('src', 'testing')}`) && !file.includes('conformance'))
      .filter((file) => literal.test(readFileSync(file, 'utf8')))
      .map((file) => relative(packagesDir, file));
    expect(found).toEqual([]);
  });

  it('seeds every property test (fc.assert, test.prop): a failure replays, and CI runs the same cases each time', () => {
    const unseeded: string[] = [];
    for (const file of codeFiles(packagesDir).concat(codeFiles(join(root, 'test')))) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/fc\.assert\(|\.prop\(\[/g)) {
        // The call's text, to its closing parenthesis (test.prop: its options are in the first call).
        let depth = 0;
        let end = match.index + match[0].indexOf('(');
        for (; end < text.length; end++) {
          if (text[end] === '(') depth++;
          else if (text[end] === ')' && --depth === 0) break;
        }
        if (!/\bseed\b/.test(text.slice(match.index, end))) unseeded.push(`${relative(root, file)}:${text.slice(0, match.index).split('\n').length}`);
      }
    }
    expect(unseeded).toEqual([]);
  });

  it('finds a cycle when there is one (the checker itself)', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
  });
});
