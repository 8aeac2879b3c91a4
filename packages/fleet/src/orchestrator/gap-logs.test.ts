/**
 * The logs a crash between the appends of one instruction leaves (committed as fixtures, made by the crash store): a
 * restarted instance heals each, once, with the ids the cut unit would have written, and `status` says what it healed.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTimeline } from '@hotpatch/store';
import { simulatedClock } from '../clock.js';
import { fleetStatus } from '../report.js';
import { createOrchestrator } from './shell.js';
import { GAP_LOG_DIR, GAP_LOGS, gapLog, storeOf, type GapLog } from './testing/gap-logs.js';
import { POLICY, RELEASED } from './testing/given.js';

/** The restarted instance's first tick: half an hour on (the devices in flight not timed out yet). */
const RESTART = 30 * 60_000;
const names = Object.keys(GAP_LOGS) as GapLog[];
const path = (name: GapLog) => join(GAP_LOG_DIR, `${name}.jsonl`);

describe('the gap logs', () => {
  it('are what the crash store leaves (HOTPATCH_WRITE_GAP_LOGS=1 writes them again)', async () => {
    for (const name of names) {
      const made = await gapLog(name);
      if (process.env.HOTPATCH_WRITE_GAP_LOGS === '1') {
        await mkdir(GAP_LOG_DIR, { recursive: true });
        await writeFile(path(name), made);
      }
      expect(await readFile(path(name), 'utf8'), name).toBe(made);
    }
  });

  for (const name of names) {
    const { device } = GAP_LOGS[name];
    it(`${name}: ${device === undefined ? 'nothing to heal' : `a restarted instance heals ${device} once, and status says so`}`, async () => {
      const { events } = await readTimeline(path(name));
      const store = await storeOf(events);
      const clock = simulatedClock(new Date(Date.parse(RELEASED) + RESTART).toISOString());
      const a = createOrchestrator({ store, clock, policy: POLICY });
      const b = createOrchestrator({ store, clock, policy: POLICY });
      const summary = await a.tick();
      // A second instance over the same log finds nothing left to heal.
      expect((await b.tick()).healed).toBe(0);
      const status = fleetStatus(a.projection, clock.now().toISOString());
      const rollout = a.projection.rollouts.get('HP-2026-02')!;
      if (device === undefined) {
        expect(summary.healed).toBe(0);
        expect(status.healed).toEqual([]);
        return;
      }
      expect(summary.healed).toBe(1);
      expect(status.healed).toEqual([{ rollout: 'HP-2026-02', device, gap: name, at: clock.now().toISOString() }]);
      // The gap is closed: the device's instruction recorded, and its steps taken.
      expect(rollout.instructed.has(device)).toBe(true);
      const state = a.projection.devices.get(device)!.state.value;
      expect(state).toBe(name === 'reboot-without-instruction' ? 'needsReboot' : 'applying');
      // Each step once, whoever wrote it.
      const log = await store.readAll();
      const steps = log.filter((e) => e.stream === `device/${device}` && (e.type === 'PatchStaged' || e.type === 'PatchApplyStarted' || e.type === 'RebootRequired'));
      expect(new Set(steps.map((e) => e.type)).size).toBe(steps.length);
      expect(log.filter((e) => e.type === 'DeviceInstructed' && (e.data as { device: string }).device === device)).toHaveLength(1);
    });
  }
});
