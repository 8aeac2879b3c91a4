/**
 * patches/@fast-check__vitest@0.5.0.patch: @fast-check/vitest builds `test.prop` for every chain of vitest's test
 * modifiers when first read instead of all of them at import (1.4 s of CPU in each test file that imports it). The
 * patched `test` must offer what the unpatched one built: every chain of distinct modifiers a function, `.prop`
 * wherever the chain has `.each`, and a property run through a chain.
 */
import { fc, test as fcTest } from '@fast-check/vitest';
import { expect, it, test as vitestTest } from 'vitest';

type Node = Record<string, unknown> & ((...args: unknown[]) => unknown);

/** Every chain the unpatched build enumerates: distinct modifiers, each one a function of vitest's chain there. */
function chains(node: Node, ancestors: string[] = []): string[][] {
  const keys = Object.getOwnPropertyNames(node).filter((key) => !ancestors.includes(key) && typeof node[key] === 'function');
  return [ancestors, ...keys.filter((key) => key !== 'each').flatMap((key) => chains(node[key] as Node, [...ancestors, key]))];
}

/**
 * vitest 4.1 offers 249,438 chains (every order of its distinct modifiers): checking each took 40-65 s, past the test's
 * bound on a busy machine. Every chain of up to three modifiers is checked, and 3,000 longer ones drawn (seeded).
 */
function checked(all: string[][]): string[][] {
  const short = all.filter((path) => path.length <= 3);
  const long = all.filter((path) => path.length > 3);
  const drawn = fc.sample(fc.nat(long.length - 1), { seed: 4107, numRuns: 3_000 }).map((i) => long[i]!);
  return [...short, ...drawn];
}

it('offers the chains of modifiers the unpatched build offered (all up to three, 3,000 longer drawn), with .prop wherever the chain has .each', () => {
  const all = chains(vitestTest as unknown as Node);
  expect(all.length).toBeGreaterThan(100);
  for (const path of checked(all)) {
    const ours = path.reduce<Node>((node, key) => node[key] as Node, fcTest as unknown as Node);
    const theirs = path.reduce<Node>((node, key) => node[key] as Node, vitestTest as unknown as Node);
    const extras = Object.getOwnPropertyNames(theirs).filter((key) => !path.includes(key) && typeof theirs[key] === 'function');
    expect(typeof ours, path.join('.')).toBe('function');
    // A chain with nothing more to add is the collector's own, without .prop, as before the patch.
    if (extras.length === 0) expect(Object.keys(ours), path.join('.')).not.toContain('prop');
    else {
      expect(Object.keys(ours).sort(), path.join('.')).toEqual([...extras, ...('each' in theirs ? ['prop'] : [])].sort());
      if ('each' in theirs) expect(typeof ours.prop, path.join('.')).toBe('function');
    }
  }
});

fcTest.concurrent.prop([fc.integer(), fc.integer()], { seed: 7, numRuns: 50 })('a property runs through a chain of modifiers', (a, b) => {
  expect(a + b).toBe(b + a);
});
