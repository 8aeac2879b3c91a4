import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InvalidEventError, type HotpatchEvent } from '@hotpatch/core';
import { ALL_EVENT_BODIES } from '@hotpatch/core/testing';
import { formatEvent } from '@hotpatch/store';
import type { StreamState } from './device-view.js';
import { foldFile } from './fold-file.js';
import { foldTimeline, TimelineFold } from './fold.js';
import { scratchFiles } from '../test/logs.js';
// @ts-expect-error -- the benchmark's generator is plain JavaScript
import { generateTimeline } from '../bench/generate.mjs';

/**
 * The fold that writes each stream's state in place (no onStep: replay, status, the benchmark) against the plain fold
 * (a new state per event, as with onStep), on generated logs with events changed into others the lifecycle may refuse:
 * the same state at every event, the same problems; and from a file, the same result.
 */
const files = await scratchFiles('hotpatch-in-place-');

/** A generated log, some events changed into another device event (often refused: the stream's state is then unknown). */
const changedLog = fc
  .record({
    events: fc.integer({ min: 1, max: 300 }),
    devices: fc.integer({ min: 1, max: 12 }),
    seed: fc.nat(),
    changes: fc.array(fc.tuple(fc.nat(), fc.nat({ max: ALL_EVENT_BODIES.length - 1 })), { maxLength: 6 }),
  })
  .map(({ events, devices, seed, changes }) => {
    const log = (generateTimeline({ events, devices, seed }) as HotpatchEvent[]).map((e) => ({ ...e }));
    for (const [at, body] of changes) Object.assign(log[at % log.length]!, ALL_EVENT_BODIES[body]);
    return log;
  });

const plain = () => ({ collectProblems: true, onStep: () => {} });
const comparable = (streams: ReadonlyMap<string, StreamState>) => JSON.stringify([...streams]);

describe('the fold in place', () => {
  test.prop([changedLog], { numRuns: 150, seed: 20261206 })('the plain fold’s state at every event, and its problems', (log) => {
    const inPlace = new TimelineFold({ collectProblems: true });
    const reference = new TimelineFold(plain());
    for (const event of log) {
      expect(inPlace.add(event)).toBe(reference.add(event));
      expect(JSON.stringify(inPlace.streams.get(event.stream))).toBe(JSON.stringify(reference.streams.get(event.stream)));
    }
    const [a, b] = [inPlace.result(), reference.result()];
    expect(a.problems.map((p) => p.message)).toEqual(b.problems.map((p) => p.message));
    expect([a.folded, comparable(a.streams)]).toEqual([b.folded, comparable(b.streams)]);
  });

  test.prop([changedLog, fc.nat()], { numRuns: 40, seed: 20261206 })('from a file, in one thread: the plain fold’s result, to the end and to a position', async (log, cut) => {
    const path = await files.write(log.map(formatEvent));
    for (const until of [undefined, { kind: 'position' as const, position: 1 + (cut % log.length) }]) {
      const options = { collectProblems: true, ...(until ? { until } : {}) };
      const fast = await foldFile(path, { ...options, parallel: false });
      const reference = foldTimeline({ events: log, lines: log.map((_, i) => i + 1), file: path }, { ...options, onStep: () => {} });
      expect(fast.problems.map((p) => p.message)).toEqual(reference.problems.map((p) => p.message));
      expect([fast.folded, comparable(fast.streams)]).toEqual([reference.folded, comparable(reference.streams)]);
    }
  });
});

describe('lines that are not events', () => {
  it('are each named by line, with what is wrong', async () => {
    const [first, second] = generateTimeline({ events: 2, devices: 2, seed: 1 }) as HotpatchEvent[];
    const unknown = { ...second!, type: 'PatchTeleported' } as unknown as HotpatchEvent;
    const path = await files.write([formatEvent(first!), '', '  \t', '{"id":', formatEvent(unknown), '[1]']);
    const folded = await foldFile(path, { collectProblems: true, parallel: false });
    expect(folded.lineProblems.every((p) => p instanceof InvalidEventError)).toBe(true);
    expect(folded.lineProblems.map((p) => p.message)).toEqual([
      expect.stringMatching(/line 2: empty line$/),
      expect.stringMatching(/line 3: empty line$/),
      expect.stringMatching(/line 4: not valid JSON \(.+\)$/),
      expect.stringMatching(/line 5 device\/dev-000002@1: type: unknown device event type "PatchTeleported"; known: /),
      expect.stringMatching(/line 6: expected a JSON object, got /),
    ]);
    await expect(foldFile(path, { parallel: false })).rejects.toThrow(/line 2: empty line/);
  });
});
