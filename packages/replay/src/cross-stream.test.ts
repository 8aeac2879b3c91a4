/**
 * Verify's check across streams: a device's patch steps against its rollout's records. On the logs a crash between
 * the appends of one instruction leaves (fleet's gap logs, made by its crash store), and step by step.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HotpatchEvent } from '@hotpatch/core';
import { formatEvent, readTimeline } from '@hotpatch/store';
import { scratchFiles, sharedLog } from '../test/logs.js';
import { CrossStreamCheck, InstructionGapError } from './cross-stream.js';
import { foldShard } from './fold-shards.js';
import { verifyFile, verifyTimeline } from './verify.js';

const GAPS = fileURLToPath(new URL('../../fleet/test/gaps/', import.meta.url));
const { write } = await scratchFiles('hotpatch-cross-stream-');

describe('the check across streams, on the logs a crash leaves', () => {
  const cases = [
    ['staged-without-instruction', 'p1', [21]],
    ['applying-without-instruction', 'p1', [21, 22]],
    ['reboot-without-instruction', 'p3', [27]],
    ['instruction-without-step', 'p1', [21]],
  ] as const;
  for (const [gap, device, lines] of cases) {
    it(`names ${gap}: one problem, its device, release and lines`, async () => {
      const result = await verifyFile(`${GAPS}${gap}.jsonl`);
      expect(result.ok).toBe(false);
      expect(result.problems).toHaveLength(1);
      const problem = result.problems[0] as InstructionGapError;
      expect(problem).toBeInstanceOf(InstructionGapError);
      expect(problem).toMatchObject({ code: 'INSTRUCTION_GAP', gap, device, release: 'HP-2026-02' });
      expect(problem.steps.map((s) => s.line)).toEqual(lines);
      expect(problem.at.line).toBe(lines[0]);
      expect(problem.what).toContain(device);
    });
  }

  it('passes an instruction its agent has not answered yet', async () => {
    expect((await verifyFile(`${GAPS}no-gap-instructed.jsonl`)).ok).toBe(true);
  });

  it('passes a gap closed later: an instruction whose steps a healing wrote after it', async () => {
    const { events } = await readTimeline(`${GAPS}instruction-without-step.jsonl`);
    const bare = events.map(({ hash: _, ...e }) => e as HotpatchEvent);
    const healed = [
      ...bare,
      { ...bare[0]!, id: '019c487e-de80-8000-8000-000000000001', stream: 'device/p1', version: 3, type: 'PatchStaged', data: { patch: 'HP-2026-02', baseline: 'B-2026-01', requires: [], liveRevert: true }, position: bare.length + 1 },
      { ...bare[0]!, id: '019c487e-de80-8000-8000-000000000002', stream: 'device/p1', version: 4, type: 'PatchApplyStarted', data: { patch: 'HP-2026-02' }, position: bare.length + 2 },
    ] as HotpatchEvent[];
    expect(verifyTimeline({ events: bare }).problems.map((p) => p.code)).toEqual(['INSTRUCTION_GAP']);
    expect(verifyTimeline({ events: healed }).problems).toEqual([]);
  });

  it('says nothing of a stream whose own problem leaves its state unknown', async () => {
    const { events } = await readTimeline(`${GAPS}staged-without-instruction.jsonl`);
    const changed = events.map((e) => (e.stream === 'device/p1' && e.type === 'PatchStaged' ? { ...e, data: { ...(e.data as object), liveRevert: false } } : e));
    const result = verifyTimeline({ events: changed });
    expect(result.problems.map((p) => p.code)).not.toContain('INSTRUCTION_GAP');
    expect(result.problems).toHaveLength(1);
  });

  it('sends a shard of a large file back to one thread where there is a gap, and lets it through where there is none', async () => {
    for (const [name, ok] of [
      ['staged-without-instruction', false],
      ['applying-without-instruction', false],
      ['reboot-without-instruction', false],
      ['instruction-without-step', false],
      ['no-gap-instructed', true],
    ] as const) {
      const { events } = await readTimeline(`${GAPS}${name}.jsonl`);
      const path = await write(events.map(formatEvent));
      // With 3 shards the rollout's stream and the devices' are in different shards (with 2, in one).
      for (const shards of [2, 3]) {
        const replies = await Promise.all(Array.from({ length: shards }, (_, shard) => foldShard({ path, shard, shards, crossStream: true })));
        // Only the shard that owns the device sees its gap: it declines, and one thread says where the gap is.
        expect(replies.every((r) => r.ok), `${name}, ${shards} shards`).toBe(ok);
        if (!ok) expect(replies.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual([expect.stringContaining('a gap between streams')]);
      }
    }
  });
});

describe('the check across streams, on a log that tenants share', () => {
  const gapLog = async (name: string) => (await readTimeline(`${GAPS}${name}.jsonl`)).events;

  it('checks each tenant’s devices against its own rollouts: a gap in one tenant named at its streams, the others clean', async () => {
    const clean = await gapLog('no-gap-instructed');
    const events = sharedLog([[undefined, clean], ['acme', await gapLog('staged-without-instruction')], ['globex', clean]]);
    const result = verifyTimeline({ events });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ code: 'INSTRUCTION_GAP', gap: 'staged-without-instruction', device: 'p1' });
    expect((result.problems[0] as InstructionGapError).what).toContain('tenant/acme/rollout/HP-2026-02');
    expect(events[(result.problems[0] as InstructionGapError).at.position! - 1]!.stream).toBe('tenant/acme/device/p1');
  });

  it('verifies one tenant alone: its events, its problems, none of the others’', async () => {
    const clean = await gapLog('no-gap-instructed');
    const events = sharedLog([[undefined, clean], ['acme', await gapLog('staged-without-instruction')], ['globex', clean]]);
    const path = await write(events.map(formatEvent));
    for (const [tenant, ok] of [['acme', false], ['globex', true], ['default', true]] as const) {
      for (const result of [verifyTimeline({ events }, [], { tenant }), await verifyFile(path, { tenant })]) {
        expect(result.ok, tenant).toBe(ok);
        expect(result.events, tenant).toBe(events.filter((e) => (tenant === 'default' ? !e.stream.startsWith('tenant/') : e.stream.startsWith(`tenant/${tenant}/`))).length);
      }
    }
  });

  it('never answers a tenant’s instruction with another tenant’s device steps', async () => {
    const clean = await gapLog('no-gap-instructed');
    // Acme's rollout instructed p1; acme's device p1 never got its steps: the default tenant's p1 did.
    const rolloutOnly = clean.filter((e) => !e.stream.startsWith('device/p1'));
    const result = verifyTimeline({ events: sharedLog([[undefined, clean], ['acme', rolloutOnly]]) });
    expect(result.problems.map((p) => [p.code, (p as InstructionGapError).gap])).toEqual([['INSTRUCTION_GAP', 'instruction-without-step']]);
  });

  it('in shards of a large file as in one thread: a tenant’s gap sends its shard back, a clean shared log goes through', async () => {
    const clean = await gapLog('no-gap-instructed');
    for (const [events, ok] of [
      // p1 lies in the shard of acme's rollout stream, p3 (with 3 or 4 shards) in another.
      [sharedLog([[undefined, clean], ['acme', await gapLog('applying-without-instruction')]]), false],
      [sharedLog([[undefined, clean], ['acme', await gapLog('reboot-without-instruction')]]), false],
      [sharedLog([[undefined, clean], ['acme', clean], ['globex', clean]]), true],
    ] as const) {
      const path = await write(events.map(formatEvent));
      expect((await verifyFile(path)).ok).toBe(ok);
      for (const shards of [2, 3, 4]) {
        const replies = await Promise.all(Array.from({ length: shards }, (_, shard) => foldShard({ path, shard, shards, crossStream: true })));
        expect(replies.every((r) => r.ok), `${shards} shards`).toBe(ok);
        if (!ok) expect(replies.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual([expect.stringContaining('a gap between streams')]);
      }
    }
  });
});

describe('the check across streams, step by step', () => {
  let position = 0;
  const event = (stream: string, type: string, data: unknown): HotpatchEvent => ({ id: `e${++position}`, stream, version: 1, type, time: '2026-02-10T17:00:00.000Z', data, position }) as HotpatchEvent;
  const check = (...events: HotpatchEvent[]) => {
    const c = new CrossStreamCheck();
    for (const e of events) c.add(e, () => ({ order: e.position!, at: { position: e.position!, stream: e.stream, version: e.version } }));
    return c.findings().map((f) => [f.error.gap, f.error.device, f.error.steps.map((s) => s.position)]);
  };
  const HP = 'rollout/HP-2026-02';
  const plan = () => event(HP, 'RolloutPlanned', { release: 'HP-2026-02', releaseKind: 'hotpatch', baseline: 'B-2026-01', cumulativeUpdate: 'LCU-HP-2026-02' });
  const enrolled = (d: string, ring: string) => event(`device/${d}`, 'DeviceEnrolled', { ring });
  const staged = (d: string) => event(`device/${d}`, 'PatchStaged', { patch: 'HP-2026-02' });
  const applying = (d: string) => event(`device/${d}`, 'PatchApplyStarted', { patch: 'HP-2026-02' });
  const instructed = (d: string, action = 'hotpatch') => event(HP, 'DeviceInstructed', { ring: 'pilot', device: d, action });

  it('a stage in its ring’s turn and no instruction, and an instruction with its stage but not its apply', () => {
    position = 0;
    expect(check(enrolled('p1', 'pilot'), enrolled('p2', 'pilot'), plan(), event(HP, 'RingStarted', { ring: 'pilot' }), staged('p1'), staged('p2'), instructed('p2'))).toEqual([
      ['staged-without-instruction', 'p1', [5]],
      ['instruction-without-step', 'p2', [6, 7]],
    ]);
  });

  it('a catch-up’s stage (after its ring’s gate) without its apply; none before the ring’s turn, nor without a rollout', () => {
    position = 0;
    const passed = [enrolled('late', 'pilot'), enrolled('b1', 'broad'), plan(), event(HP, 'RingStarted', { ring: 'pilot' }), event(HP, 'GatePassed', { ring: 'pilot' })];
    expect(check(...passed, staged('late'), event('device/late', 'RebootRequired', { reason: 'manual' }))).toEqual([['stage-without-apply', 'late', [6]]]);
    position = 0;
    expect(check(...passed, staged('late'), applying('late'))).toEqual([]);
    position = 0;
    expect(check(...passed, staged('b1'))).toEqual([]);
    position = 0;
    expect(check(enrolled('x', 'pilot'), event('device/x', 'PatchStaged', { patch: 'HP-own' }))).toEqual([]);
  });

  it('a restart the rollout gives, without its instruction; and with it, nothing', () => {
    position = 0;
    const start = [enrolled('p3', 'pilot'), plan(), event(HP, 'RingStarted', { ring: 'pilot' })];
    expect(check(...start, event('device/p3', 'RebootRequired', { reason: 'eligibility', baseline: 'LCU-HP-2026-02' }))).toEqual([['reboot-without-instruction', 'p3', [4]]]);
    position = 0;
    expect(check(...start, event('device/p3', 'RebootRequired', { reason: 'eligibility', baseline: 'LCU-HP-2026-02' }), instructed('p3', 'reboot'))).toEqual([]);
    position = 0;
    expect(check(...start, event('device/p3', 'RebootRequired', { reason: 'hotpatch-failed', baseline: 'LCU-HP-2026-02' }))).toEqual([]);
  });
});
