/**
 * The logs with a gap between the appends of one instruction, made by the crash store: the pilot ring's first tick
 * (the rollout's RingStarted, then p1's stage, apply and instruction, p2's, then p3's restart and instruction), each
 * append committed on its own, the process killed after the k-th. Committed as JSONL under packages/fleet/test/gaps
 * (`HOTPATCH_WRITE_GAP_LOGS=1` writes them again). Test-only: not built nor published.
 */
import { fileURLToPath } from 'node:url';
import type { HotpatchEvent } from '@hotpatch/core';
import { createInMemoryEventStore, formatEvent, type EventStore } from '@hotpatch/store';
import { runRollout, type RunOptions } from './crash-run.js';

/** Where the gap logs are committed. */
export const GAP_LOG_DIR = fileURLToPath(new URL('../../../test/gaps/', import.meta.url));

/** The gap each log holds, the device it strands, and the crash that made it. */
export const GAP_LOGS = {
  /** Killed after p1's PatchStaged. */
  'staged-without-instruction': { device: 'p1', crash: { unit: 1, k: 2 } },
  /** Killed after p1's PatchApplyStarted. */
  'applying-without-instruction': { device: 'p1', crash: { unit: 1, k: 3 } },
  /** Killed after p3's RebootRequired (p3 cannot take hotpatches: the cumulative update instead). */
  'reboot-without-instruction': { device: 'p3', crash: { unit: 1, k: 8 } },
  /**
   * Killed after p1's instruction, p1's stage and apply lost (acknowledged, never kept): the one gap a crash alone
   * cannot leave with today's order of appends (see crashStore's `lose`).
   */
  'instruction-without-step': { device: 'p1', crash: { unit: 1, k: 4 }, lose: (stream: string) => stream === 'device/p1' },
  /** Not a gap: killed after p1's whole instruction (p1 instructed, its agent not heard of yet). */
  'no-gap-instructed': { device: undefined, crash: { unit: 1, k: 4 } },
} as const satisfies Record<string, { readonly device: string | undefined } & Pick<RunOptions, 'crash' | 'lose'>>;
export type GapLog = keyof typeof GAP_LOGS;

/** A gap log as JSONL, as the crash store leaves it. */
export async function gapLog(name: GapLog): Promise<string> {
  const store = createInMemoryEventStore();
  const { crash, ...rest } = GAP_LOGS[name];
  const { events } = await runRollout({ open: async () => store, close: async () => {} }, { hideBatch: true, stopAtCrash: true, crash, ...('lose' in rest ? { lose: rest.lose } : {}) });
  return events.map((e) => formatEvent(e)).join('\n') + '\n';
}

/** A store holding these events, appended as they were recorded (same ids, times, meta; the store's own positions and hashes). */
export async function storeOf(events: readonly HotpatchEvent[], store: EventStore = createInMemoryEventStore()): Promise<EventStore> {
  for (const { stream, id, type, time, data, meta } of events) await store.appendToStream(stream, [{ id, type, time, data, ...(meta !== undefined ? { meta } : {}) }]);
  return store;
}
