/**
 * One arm of `hotpatch simulate`, run where the command puts it: in this thread, or in a worker thread of its own
 * (this module is then the worker's entry point), so that the two arms run side by side on two cores. Each arm
 * opens its own store: the arms share nothing but their inputs, and each writes the same log either way.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { FleetPolicy } from '@hotpatch/fleet';
import { simulate, type Arm, type SimulationResult } from '@hotpatch/simulator';
import { createPackedInMemoryEventStore, scopeStore } from '@hotpatch/store';
import { openEventStore, type StoreSource } from '../store-source.js';

export interface ArmJob {
  readonly arm: Arm;
  readonly devices: number;
  readonly months: number;
  readonly seed: number;
  readonly policy: FleetPolicy;
  /** Where the arm's log goes; in memory when absent. */
  readonly source?: StoreSource;
  /** The named tenant whose fleet it is (its streams tenant/T/…); the default tenant's when absent. */
  readonly tenant?: string;
}

export interface ArmProgress {
  readonly at: string;
  readonly share: number;
}

/** Messages from an arm's worker to the command. */
export type ArmMessage =
  | { readonly kind: 'progress'; readonly progress: ArmProgress }
  | { readonly kind: 'result'; readonly result: SimulationResult }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly stack?: string };

export async function runArm(job: ArmJob, onProgress: (p: ArmProgress) => void): Promise<SimulationResult> {
  // Simulated logs are written with synchronous=NORMAL (a seed writes them again, byte for byte), and every
  // device's state stays in the store's cache (about 770 bytes each): the simulation touches every device
  // every month. In memory, the log is kept packed (about 80 bytes an event instead of about a kilobyte), so that a
  // million devices' logs fit.
  const opened = job.source ? await openEventStore(job.source, { durability: 'normal', stateCacheSize: job.devices + 1_000 }) : createPackedInMemoryEventStore();
  const store = job.tenant === undefined ? opened : scopeStore(opened, job.tenant);
  try {
    return await simulate({ devices: job.devices, months: job.months, seed: job.seed, policy: job.policy, store, arm: job.arm, onProgress });
  } finally {
    await opened.close();
  }
}

if (!isMainThread && parentPort !== null && (workerData as { hotpatchArm?: ArmJob } | undefined)?.hotpatchArm !== undefined) {
  const port = parentPort;
  const job = (workerData as { hotpatchArm: ArmJob }).hotpatchArm;
  runArm(job, (progress) => port.postMessage({ kind: 'progress', progress } satisfies ArmMessage)).then(
    (result) => port.postMessage({ kind: 'result', result } satisfies ArmMessage),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ kind: 'error', name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) } satisfies ArmMessage);
    },
  );
}
