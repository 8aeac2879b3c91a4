import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileDigest, formatEvent } from '@hotpatch/store';
import { exportedLog as log, scratchFiles } from '../test/logs.js';
import { foldInShards, foldShard, shardOf, shardsAvailable } from './fold-shards.js';
import { foldFile, type FileFoldResult } from './fold-file.js';

const { write } = await scratchFiles('hotpatch-shards-');

/** Everything a fold says, in a form two folds can be compared by (stream order included). */
const summary = (r: FileFoldResult) => ({
  streams: JSON.stringify([...r.streams]),
  folded: r.folded,
  lines: r.lines,
  problems: r.problems.map((p) => p.message),
  lineProblems: r.lineProblems.map((p) => p.message),
});

describe('folding a file in shards', () => {
  const events = log(6_000, 120, 7);
  const lines = events.map(formatEvent);

  it('runs here: the worker is built (pnpm build) and there is more than one core', () => {
    expect(shardsAvailable()).toBeGreaterThan(1);
  });

  it('gives exactly what one thread gives on a clean log, to the end and to a time, whatever the shard count', async () => {
    const path = await write(lines);
    const one = await foldFile(path, { parallel: false });
    expect(one.folded).toBe(6_000);
    for (const shards of [2, 3]) {
      const sharded = await foldInShards(path, undefined, shards);
      expect(sharded, `${shards} shards`).toBeDefined();
      expect(summary(sharded!)).toEqual(summary(one));
    }
    const at = { kind: 'time', time: events[3_000]!.time } as const;
    const sharded = await foldInShards(path, at, 2);
    expect(sharded).toBeDefined();
    expect(summary(sharded!)).toEqual(summary(await foldFile(path, { until: at, parallel: false })));
    expect(summary(await foldFile(path, { parallel: true }))).toEqual(summary(one));
  });

  it('takes the digest of the bytes read, the same in every shard and in one thread: the file’s', async () => {
    const path = await write(lines);
    const whole = fileDigest().update(await readFile(path)).digest('hex');
    expect((await foldFile(path, { parallel: false, digest: true })).digest).toBe(whole);
    expect((await foldInShards(path, undefined, 3, false, true))?.digest).toBe(whole);
    expect((await foldFile(path, { parallel: false })).digest).toBeUndefined();
  });

  it('declines anything it cannot be sure of, and foldFile then says what one thread says', async () => {
    const swapped = [...lines];
    const j = swapped.findIndex((l, k) => k > 10 && JSON.parse(l).stream === JSON.parse(swapped[10]!).stream);
    [swapped[10], swapped[j]] = [swapped[j]!, swapped[10]!];
    const unhashed = lines.map((l) => l.replace(/,"hash":"[0-9a-f]{64}"/, ''));
    const sameStream = events.findIndex((e, k) => k > 400 && e.stream === events[3]!.stream);
    const cases: Record<string, string[]> = {
      'a malformed line': lines.map((l, k) => (k === 50 ? '{"id": oops}' : l)),
      'an empty line': lines.map((l, k) => (k === 50 ? '' : l)),
      'a line written twice': lines.flatMap((l, k) => (k === 300 ? [l, l] : [l])),
      // Without hashes (which cover the id), so that only the check of ids can see these.
      'a repeated id in another stream': unhashed.map((l, k) => (k === 400 ? l.replace(/"id":"[^"]+"/, `"id":"${events[3]!.id}"`) : l)),
      'a repeated id in its own stream': unhashed.map((l, k) => (k === sameStream ? l.replace(/"id":"[^"]+"/, `"id":"${events[3]!.id}"`) : l)),
      'two events of a stream swapped': swapped,
      'positions out of order': lines.map((l, k) => (k === 70 ? l.replace(/"position":\d+/, '"position":3') : l)),
      'an escaped stream name': lines.map((l, k) => (k === 90 ? l.replace('"stream":"device/', '"stream":"device\\/') : l)),
      'keys in another order': lines.map((l, k) => (k === 90 ? JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l)).reverse())) : l)),
      'a nested position key without a top-level one': lines.map((l, k) => (k === 5 ? l.replace(/,"position":\d+/, '').replace('"data":{', '"data":{"x":1,"position":9,') : l)),
      'a changed event (hash chain)': lines.map((l, k) => (k === 200 ? l.replace('"time":"2026', '"time":"2027') : l)),
      // A log with hashes has them on every event: one shard may see only events without, another only with.
      'an event without its hash': lines.map((l, k) => (k === 250 ? l.replace(/,"hash":"[0-9a-f]{64}"/, '') : l)),
      'a stream without hashes': lines.map((l) => (JSON.parse(l).stream === events[7]!.stream ? l.replace(/,"hash":"[0-9a-f]{64}"/, '') : l)),
    };
    const valid = new Set(['an escaped stream name', 'keys in another order']);
    for (const [name, text] of Object.entries(cases)) {
      const path = await write(text);
      const one = await foldFile(path, { collectProblems: true, parallel: false });
      const sharded = await foldInShards(path, undefined, 2);
      // Two of these are valid logs in another spelling: the shards may decline them, or give the same result. The
      // others have problems: the shards decline, and the problems are reported as one thread reports them.
      const problems = one.problems.length + one.lineProblems.length;
      if (valid.has(name)) {
        expect(problems, name).toBe(0);
        if (sharded !== undefined) expect(summary(sharded), name).toEqual(summary(one));
      } else {
        expect(problems, name).toBeGreaterThan(0);
        expect(sharded, name).toBeUndefined();
      }
      expect(summary(await foldFile(path, { collectProblems: true, parallel: true })), name).toEqual(summary(one));
      const thrown = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);
      expect(await thrown(foldFile(path, { parallel: true })), name).toBe(await thrown(foldFile(path, { parallel: false })));
    }
  });

  it('a shard stops reading as soon as another shard has given up', async () => {
    const path = await write(lines);
    expect(await foldShard({ path, shard: 0, shards: 2 }, () => true)).toEqual({ ok: false, reason: 'line 1: another shard stopped' });
    expect((await foldShard({ path, shard: 0, shards: 2 })).ok).toBe(true);
  });

  it('property: on any log with one line moved, or one stream name escaped, foldFile in shards says what one thread says', async () => {
    const small = log(300, 12, 11).map(formatEvent);
    await fc.assert(
      fc.asyncProperty(fc.nat(small.length - 1), fc.nat(small.length - 1), fc.boolean(), async (from, to, escape) => {
        const moved = [...small];
        if (escape) moved[from] = moved[from]!.replace('"stream":"device/', '"stream":"device\\/');
        else moved.splice(to, 0, ...moved.splice(from, 1));
        const path = await write(moved);
        expect(summary(await foldFile(path, { collectProblems: true, parallel: true }))).toEqual(summary(await foldFile(path, { collectProblems: true, parallel: false })));
      }),
      { seed: 20261126, numRuns: 30 },
    );
  });

  it('spreads names over the shards', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) counts[shardOf(`device/dev-${String(i).padStart(6, '0')}`, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
