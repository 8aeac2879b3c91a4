/**
 * Sealed logs: random logs sealed at random points (some seals written while other writers append), then tampered
 * with as an attacker with the log but not the key would (hash chains recomputed every time), are refused with the
 * reason; untampered logs pass.
 */
import { generateKeyPairSync } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { HotpatchEvent, SealEventData } from '@hotpatch/core';
import { createInMemoryEventStore, eventHash, GENESIS_HASH, keyIdOf, LogSealer, signSeal, type EventStore, type RecordedEvent } from '@hotpatch/store';
// @ts-expect-error -- the benchmark's generator is plain JavaScript
import { generateTimeline } from '../bench/generate.mjs';
import { scratchFiles } from '../test/logs.js';
import { foldInShards, foldShard } from './fold-shards.js';
import { verifyFile, verifyTimeline } from './verify.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const isSeal = (e: HotpatchEvent) => e.stream.startsWith('seal/');
const sealData = (e: HotpatchEvent) => e.data as SealEventData['LogSealed'];

/**
 * A store whose seal appends let `concurrent` other events in first, as writers appending between the sealer's
 * read and its append would: the seal then covers a position below the events just before it.
 */
function racing(store: EventStore, pending: HotpatchEvent[], concurrent: () => number): EventStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'appendToStream') return Reflect.get(target, key, receiver);
      return async (stream: string, events: never[], options: never) => {
        if (stream.startsWith('seal/')) for (let n = concurrent(); n > 0 && pending.length > 0; n--) await append(target, pending.shift()!);
        return target.appendToStream(stream, events, options);
      };
    },
  });
}
const append = (store: EventStore, e: HotpatchEvent) => store.appendToStream(e.stream, [{ id: e.id, type: e.type, time: e.time, data: e.data }]);

/** A generated log appended to a memory store, sealed after each cut (seals racing `race` events), as the store gives it back. */
async function sealedLog(seed: number, size: number, cuts: readonly number[], race: number): Promise<RecordedEvent[]> {
  const pending = [...(generateTimeline({ events: size, devices: 4, seed }) as HotpatchEvent[])];
  const memory = createInMemoryEventStore();
  const store = racing(memory, pending, () => race);
  const sealer = new LogSealer(store, privateKey, { clock: () => new Date('2026-03-01T00:00:00Z') });
  let done = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    while (done < cut && pending.length > 0) {
      await append(memory, pending.shift()!);
      done++;
    }
    await sealer.seal();
  }
  while (pending.length > 0) await append(memory, pending.shift()!);
  return memory.readAll();
}

/** The log with versions renumbered per stream, positions renumbered, and every hash chained again: an attacker's rewrite. */
function rechained(log: readonly HotpatchEvent[], renumberPositions = true): HotpatchEvent[] {
  const heads = new Map<string, { hash: string; version: number }>();
  return log.map((e, i) => {
    const before = heads.get(e.stream);
    const version = (before?.version ?? 0) + 1;
    const moved = { ...e, version, ...(renumberPositions ? { position: i + 1 } : {}) };
    const hash = eventHash(before?.hash ?? GENESIS_HASH, moved);
    heads.set(e.stream, { hash, version });
    return { ...moved, hash };
  });
}

type Tamper =
  | { kind: 'none' }
  | { kind: 'change' | 'drop' | 'reorder'; pick: number }
  | { kind: 'drop-seal'; pick: number }
  | { kind: 'forge'; pick: number; keepKeyId: boolean };

/** The tampered log and the reason verify must give (undefined: it must pass), or undefined when the tamper does not apply. */
function tamper(log: readonly RecordedEvent[], t: Tamper): { log: HotpatchEvent[]; reason: RegExp | undefined } | undefined {
  const seals = log.filter(isSeal);
  const lastCovered = seals.length > 0 ? Math.max(...seals.map((s) => sealData(s).position)) : 0;
  const covered = log.map((e, i) => [e, i] as const).filter(([e]) => !isSeal(e) && e.position <= lastCovered);
  const digest = /do not give its digest/;
  switch (t.kind) {
    case 'none':
      return { log: [...log], reason: undefined };
    case 'change': {
      if (covered.length === 0) return undefined;
      const [e, i] = covered[t.pick % covered.length]!;
      const changed = [...log] as HotpatchEvent[];
      changed[i] = { ...e, time: new Date(Date.parse(e.time) + 1).toISOString() };
      return { log: rechained(changed, false), reason: digest };
    }
    case 'drop': {
      if (covered.length === 0) return undefined;
      const [, i] = covered[t.pick % covered.length]!;
      // (Positions renumbered: a seal can end up at the position it covers, which is a failure of its own.)
      return { log: rechained(log.filter((_, k) => k !== i)), reason: /do not give its digest|not before its own/ };
    }
    case 'reorder': {
      // Two events of one stream, both covered, swapped where they stand.
      const pairs = covered.flatMap(([e, i]) => {
        const j = covered.find(([f, k]) => k > i && f.stream === e.stream)?.[1];
        return j === undefined ? [] : [[i, j] as const];
      });
      if (pairs.length === 0) return undefined;
      const [i, j] = pairs[t.pick % pairs.length]!;
      const swapped = [...log] as HotpatchEvent[];
      [swapped[i], swapped[j]] = [log[j]!, log[i]!];
      return { log: rechained(swapped, false), reason: /do not give its digest|refused|not allowed|cannot/ };
    }
    case 'drop-seal': {
      // A seal with a later seal after it in its stream.
      const droppable = log.map((e, i) => [e, i] as const).filter(([e]) => isSeal(e) && seals.some((s) => s.version > e.version));
      if (droppable.length === 0) return undefined;
      const [, i] = droppable[t.pick % droppable.length]!;
      return { log: rechained(log.filter((_, k) => k !== i)), reason: /seal before it removed/ };
    }
    case 'forge': {
      if (seals.length === 0) return undefined;
      const target = seals[t.pick % seals.length]!;
      const i = log.indexOf(target);
      const data = sealData(target);
      const keyId = t.keepKeyId ? data.keyId : keyIdOf(other.publicKey);
      const { signature: _, ...fields } = { ...data, keyId };
      const forged = { ...target, data: { ...fields, keyId, signature: signSeal({ ...fields, stream: target.stream, time: target.time }, other.privateKey) } };
      const changed = [...log] as HotpatchEvent[];
      changed[i] = forged;
      return { log: rechained(changed, false), reason: t.keepKeyId ? /signature does not verify/ : /not the key given/ };
    }
  }
}

const tamperArb: fc.Arbitrary<Tamper> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constantFrom('change' as const, 'drop' as const, 'reorder' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('drop-seal' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('forge' as const), pick: fc.nat(), keepKeyId: fc.boolean() }),
);

const sealProblems = (report: ReturnType<typeof verifyTimeline>) => report.problems.filter((p) => p.code === 'SEAL_FAILED').map((p) => p.message);

describe('sealed logs', () => {
  test.prop(
    [fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 20, max: 120 }), fc.array(fc.nat({ max: 120 }), { minLength: 1, maxLength: 4 }), fc.nat({ max: 3 }), fc.constantFrom(2, 8, 1 << 18), tamperArb],
    { numRuns: 120, seed: 20261206 },
  )('an untampered log passes; a tampered one fails with the reason (hashes recomputed)', async (seed, size, cuts, race, journal, t) => {
    const log = await sealedLog(seed, size, cuts, race);
    const tampered = tamper(log, t);
    fc.pre(tampered !== undefined);
    const report = verifyTimeline({ events: tampered!.log }, [], { sealKey: publicKey, sealJournal: journal });
    if (tampered!.reason === undefined) {
      expect(report.problems.map((p) => p.message)).toEqual([]);
      expect(report.seals.seals.length).toBe(log.filter(isSeal).length);
      expect(report.seals.seals.every((s) => s.signature === 'valid' && s.digest === 'matches')).toBe(true);
      const lastCovered = Math.max(...log.filter(isSeal).map((s) => sealData(s).position));
      expect(report.seals.uncovered).toBe(log.filter((e) => !isSeal(e) && e.position > lastCovered).length);
    } else {
      expect(report.ok).toBe(false);
      expect([...sealProblems(report), ...report.problems.map((p) => p.message)].join('\n')).toMatch(tampered!.reason);
      expect(sealProblems(report).length).toBeGreaterThan(0);
    }
  });

  it('seals written while others append cover a position below their own, and verify rolls the heads back to it', async () => {
    const log = await sealedLog(7, 80, [20, 50], 3);
    const seals = log.filter(isSeal);
    expect(seals.map((s) => s.position - sealData(s).position)).toEqual([4, 4]);
    for (const journal of [1, 1 << 18]) expect(verifyTimeline({ events: log }, [], { sealKey: publicKey, sealJournal: journal }).ok).toBe(true);
  });

  it('without a key: digests and numbers are checked, signatures are not (a forged seal with a true digest passes)', async () => {
    const log = await sealedLog(3, 60, [30], 0);
    const forged = tamper(log, { kind: 'forge', pick: 0, keepKeyId: true })!.log;
    const report = verifyTimeline({ events: forged });
    expect(report.ok).toBe(true);
    expect(report.seals.seals.map((s) => s.signature)).toEqual(['not checked']);
    expect(verifyTimeline({ events: tamper(log, { kind: 'change', pick: 0 })!.log }).ok).toBe(false);
  });

  it('a log truncated after its last seal passes, with no event uncovered; a key given for a log without seals fails', async () => {
    const log = await sealedLog(5, 60, [40], 0);
    const seal = log.find(isSeal)!;
    const truncated = log.filter((e) => e.position <= seal.position);
    const report = verifyTimeline({ events: truncated }, [], { sealKey: publicKey });
    expect(report).toMatchObject({ ok: true, seals: { uncovered: 0, lastCovered: 40 } });
    expect(verifyTimeline({ events: log }, [], { sealKey: publicKey }).seals.uncovered).toBe(20);
    const unsealed = rechained(log.filter((e) => !isSeal(e)));
    expect(verifyTimeline({ events: unsealed }, [], { sealKey: publicKey }).problems.map((p) => p.code)).toEqual(['NO_SEAL']);
    expect(verifyTimeline({ events: unsealed }).ok).toBe(true);
  });

  it('verifyFile checks a file’s seals, with a second read when a seal covers further back than the journal keeps', async () => {
    const files = await scratchFiles('hotpatch-seals-');
    const log = await sealedLog(11, 100, [30, 90], 2);
    const path = await files.write(log.map((e) => JSON.stringify(e)));
    for (const sealJournal of [1, 1 << 18]) {
      const report = await verifyFile(path, { sealKey: publicKey, sealJournal });
      expect(report.ok).toBe(true);
      expect(report.seals.seals.map((s) => s.digest)).toEqual(['matches', 'matches']);
    }
    const changed = tamper(log, { kind: 'change', pick: 5 })!.log;
    const bad = await verifyFile(await files.write(changed.map((e) => JSON.stringify(e))), { sealKey: publicKey, sealJournal: 1 });
    expect(bad.problems.map((p) => p.code)).toContain('SEAL_FAILED');
    // A file with seals is not folded in shards (a seal needs every stream's heads): one thread checks its seals.
    expect(await foldShard({ path, shard: 0, shards: 2 })).toEqual({ ok: false, reason: expect.stringMatching(/^line \d+: a seal \(seals are checked in one thread\)$/) });
    expect(await foldInShards(path, undefined, 2)).toBeUndefined();
  });
});

