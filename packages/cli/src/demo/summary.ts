/** The demo's summary, computed from the log alone. */
import { deviceIdOf, type HotpatchEvent } from '@hotpatch/core';
import type { DeviceView } from '@hotpatch/replay';

export interface PatchOutcome {
  staged: number;
  applied: number;
  verified: number;
  applyFailed: number;
  healthFailed: number;
  rolledBack: number;
  rollbackFailed: number;
  rebootsNeeded: number;
}

export interface DemoSummary {
  readonly devices: number;
  readonly events: number;
  readonly states: Record<string, number>;
  /** Restarts (BaselineInstalled), by the reason that required them. */
  readonly reboots: Record<string, number>;
  readonly rebootsTotal: number;
  readonly patches: Record<string, PatchOutcome>;
  /** A device that rolled back live, and one whose failure needed a reboot, to look at next. */
  readonly examples: { readonly rolledBack?: string; readonly rebootedAfterFailure?: string };
}

export function summarise(events: readonly HotpatchEvent[], fleet: readonly DeviceView[]): DemoSummary {
  const states: Record<string, number> = {};
  for (const v of fleet) states[v.state] = (states[v.state] ?? 0) + 1;
  const reboots: Record<string, number> = {};
  const patches: Record<string, PatchOutcome> = {};
  const pendingReason = new Map<string, string>();
  const inFlight = new Map<string, string>();
  const examples: { rolledBack?: string; rebootedAfterFailure?: string } = {};
  const outcome = (patch: string) =>
    (patches[patch] ??= { staged: 0, applied: 0, verified: 0, applyFailed: 0, healthFailed: 0, rolledBack: 0, rollbackFailed: 0, rebootsNeeded: 0 });
  const device = (stream: string) => deviceIdOf(stream) ?? stream;

  for (const e of events) {
    switch (e.type) {
      case 'PatchStaged':
        outcome(e.data.patch).staged++;
        inFlight.set(e.stream, e.data.patch);
        break;
      case 'PatchApplied':
        outcome(e.data.patch).applied++;
        break;
      case 'PatchVerified':
        outcome(e.data.patch).verified++;
        break;
      case 'PatchApplyFailed':
        outcome(e.data.patch).applyFailed++;
        break;
      case 'HealthCheckFailed':
        outcome(e.data.patch).healthFailed++;
        break;
      case 'PatchRolledBack':
        outcome(e.data.patch).rolledBack++;
        examples.rolledBack ??= device(e.stream);
        break;
      case 'RollbackFailed':
        outcome(e.data.patch).rollbackFailed++;
        pendingReason.set(e.stream, 'rollback-failed');
        break;
      case 'RebootRequired': {
        if (!pendingReason.has(e.stream)) pendingReason.set(e.stream, e.data.reason);
        const patch = inFlight.get(e.stream);
        if (e.data.reason === 'not-live-revertible' && patch) {
          outcome(patch).rebootsNeeded++;
          examples.rebootedAfterFailure ??= device(e.stream);
        }
        break;
      }
      case 'BaselineInstalled': {
        const reason = pendingReason.get(e.stream) ?? 'unknown';
        reboots[reason] = (reboots[reason] ?? 0) + 1;
        pendingReason.delete(e.stream);
        inFlight.delete(e.stream);
        break;
      }
    }
  }
  const rebootsTotal = Object.values(reboots).reduce((a, b) => a + b, 0);
  return { devices: fleet.length, events: events.length, states, reboots, rebootsTotal, patches, examples };
}
