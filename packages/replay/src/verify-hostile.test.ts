/**
 * Hostile logs: a problem on every few lines, or versions far apart. Verify reports each as it reports one, in time
 * near-linear in the number of events. Sizes are chosen so that a quadratic check would run far past the test's
 * timeout (positions swapped on every third line of 120,000 events took 173 s before, one stream written backwards
 * with 4,000 events 42 s), while these take a second or two. No time is asserted: the timeout is the witness.
 */
import { describe, expect, it } from 'vitest';
import type { HotpatchError, InvalidEventError } from '@hotpatch/core';
// @ts-expect-error -- the benchmark's generator is plain JavaScript
import { hostileTimeline } from '../bench/hostile.mjs';
import { scratchFiles } from '../test/logs.js';
import { verifyFile } from './verify.js';

const { write } = await scratchFiles('hotpatch-hostile-');
const hostile = (kind: string, events: number) => hostileTimeline(kind, events) as string[];

/** Each problem as "line: what", with what it implies after " => ". */
const said = (r: { problems: readonly HotpatchError[]; implications: ReadonlyMap<HotpatchError, string> }) =>
  r.problems.map((p) => {
    const { at, problem } = p as InvalidEventError;
    const implies = r.implications.get(p);
    return `${at.line}: ${at.stream}@${at.version}: ${problem}${implies ? ` => ${implies}` : ''}`;
  });
const parsed = (lines: readonly string[]) => lines.map((l) => JSON.parse(l) as { stream: string; version: number });

describe('verify on hostile logs', () => {
  it('positions swapped on every third line of 100,000 events: each pair once, as two lines out of order', async () => {
    const lines = hostile('positions', 100_000);
    const report = await verifyFile(await write(lines));
    const events = parsed(lines);
    const expected: string[] = [];
    for (let i = 0; i + 2 < lines.length; i += 3) {
      const { stream, version } = events[i]!;
      expected.push(`${i + 1}: ${stream}@${version}: position ${i + 2} comes before ${i + 1}, on the next line: the two are out of order (swapped?)`);
    }
    expect(said(report)).toEqual(expected);
  });

  it('a version gap in every stream of 100,000 events: one problem per stream, with what it leaves unchecked', async () => {
    const lines = hostile('gaps', 100_000);
    const report = await verifyFile(await write(lines));
    const events = parsed(lines);
    const laterIn = new Map<string, number>();
    const expected: string[] = [];
    for (let i = events.length - 1; i >= 0; i--) {
      const { stream, version } = events[i]!;
      const later = laterIn.get(stream) ?? 0;
      laterIn.set(stream, later + 1);
      if (version !== 3) continue;
      const implies = later === 0 ? '' : ` => ${later} later event${later === 1 ? ` of ${stream} was` : `s of ${stream} were`} not checked against the lifecycle: the stream's state after this event is unknown`;
      expected.unshift(`${i + 1}: ${stream}@3: version 3 leaves a gap; expected 2: version 2 is missing (removed?)${implies}`);
    }
    expect(expected.length).toBeGreaterThan(4_000);
    expect(said(report)).toEqual(expected);
  });

  it('one stream of 20,000 events written last version first: one problem, its versions listed up to ten', async () => {
    const report = await verifyFile(await write(hostile('late', 20_000)));
    const late = Array.from({ length: 10 }, (_, k) => `${19_999 - k} (line ${k + 2})`).join(', ');
    expect(said(report)).toEqual([`1: device/dev-000001@20000: version 20000 comes before versions ${late}, and 19989 more: events out of order (moved or swapped)`]);
  });

  it('a version 2^53 - 1 in every stream: the versions missing as ranges, not one by one', async () => {
    const lines = hostile('far', 200);
    const report = await verifyFile(await write(lines));
    const streams = new Set(parsed(lines).flatMap((e) => (e.version === Number.MAX_SAFE_INTEGER ? [e.stream] : [])));
    expect(report.problems).toHaveLength(streams.size);
    for (const problem of said(report)) {
      expect(problem).toMatch(/^\d+: device\/dev-\d+@9007199254740991: version 9007199254740991 leaves a gap; expected 2: (version 2 is|versions 2(, \d+)?–9007199254740990 are) missing \(removed\?\)/);
    }
  });
});
