/**
 * The logs a crash between the appends of one instruction leaves (fleet's gap logs, made by its crash store): `verify`
 * names each gap, in a file and in a store; once a restarted orchestrator has healed it, `verify` passes the log and
 * `status` says what was healed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createOrchestrator, simulatedClock } from '@hotpatch/fleet';
import { formatEvent, readTimeline } from '@hotpatch/store';
import { openSqliteEventStore } from '@hotpatch/store-sqlite';
import { runCaptured } from './main.js';
// Fleet's test helpers, by path (test-only, never published).
import { storeOf } from '../../fleet/src/orchestrator/testing/gap-logs.js';
import { POLICY, RELEASED } from '../../fleet/src/orchestrator/testing/given.js';

const dir = await mkdtemp(join(tmpdir(), 'hotpatch-gaps-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const cli = (...argv: string[]) => runCaptured(argv);
const GAPS = fileURLToPath(new URL('../../fleet/test/gaps/', import.meta.url));

const cases = [
  ['staged-without-instruction', 'line 21: device/p1@3: PatchStaged HP-2026-02 in ring pilot', 'neither its PatchApplyStarted nor the rollout'],
  ['applying-without-instruction', 'line 21: device/p1@3: PatchStaged HP-2026-02, then PatchApplyStarted at line 22, in ring pilot', "DeviceInstructed for p1 never follows"],
  ['reboot-without-instruction', 'line 27: device/p3@3: RebootRequired LCU-HP-2026-02 in ring pilot', "DeviceInstructed for p3 never follows"],
  ['instruction-without-step', 'line 21: rollout/HP-2026-02@3: DeviceInstructed for p1 (hotpatch)', 'no PatchStaged and PatchApplyStarted for HP-2026-02'],
] as const;

describe('hotpatch verify on a log with a gap between the appends of one instruction', () => {
  for (const [gap, where, what] of cases) {
    it(`names ${gap}: the device, the release and where, once; exit 1`, async () => {
      const r = await cli('verify', `${GAPS}${gap}.jsonl`);
      expect(r.code).toBe(1);
      const lines = r.out.split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(where);
      expect(lines[0]).toContain(what);
      const json = JSON.parse((await cli('verify', `${GAPS}${gap}.jsonl`, '--json')).out) as { ok: boolean; problems: Array<{ code: string; message: string }> };
      expect(json).toMatchObject({ ok: false, problems: [{ code: 'INSTRUCTION_GAP', message: lines[0] }] });
    });
  }

  it('passes a log whose instruction its agent has not answered yet', async () => {
    expect(await cli('verify', `${GAPS}no-gap-instructed.jsonl`)).toMatchObject({ code: 0, out: expect.stringMatching(/^ok: 23 events/) });
  });

  it('names the gap in a store, by position', async () => {
    const { events } = await readTimeline(`${GAPS}staged-without-instruction.jsonl`);
    const path = join(dir, 'staged.db');
    const store = await storeOf(events, openSqliteEventStore({ path }));
    await store.close();
    const r = await cli('verify', '--store', `sqlite:${path}`);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^position 21: device\/p1@3: PatchStaged HP-2026-02 in ring pilot's turn of rollout\/HP-2026-02 \(its RingStarted at position 20\)/);
  });
});

describe('a gap healed by a restarted orchestrator', () => {
  it('verify passes the log, and status says what was healed', async () => {
    for (const [gap] of cases) {
      const { events } = await readTimeline(`${GAPS}${gap}.jsonl`);
      const store = await storeOf(events);
      const clock = simulatedClock(new Date(Date.parse(RELEASED) + 30 * 60_000).toISOString());
      expect((await createOrchestrator({ store, clock, policy: POLICY }).tick()).healed).toBe(1);
      const file = join(dir, `${gap}.healed.jsonl`);
      await writeFile(file, (await store.readAll()).map((e) => formatEvent(e) + '\n').join(''));
      expect(await cli('verify', file), gap).toMatchObject({ code: 0 });
      const device = gap === 'reboot-without-instruction' ? 'p3' : 'p1';
      const text = (await cli('status', file)).out;
      expect(text).toContain('Healed: 1 instruction a unit of work cut short between its appends, carried on by a later tick');
      expect(text).toContain(`  ${device} (HP-2026-02): `);
      const status = JSON.parse((await cli('status', file, '--json')).out) as { healed: unknown };
      expect(status.healed).toEqual([{ rollout: 'HP-2026-02', device, gap, at: clock.now().toISOString() }]);
    }
  });
});
