// The device's side of the service: one agent, whose outcomes come from an answer source (seeded faults, a recorded
// log, a test's script). Type imports only, so that fleet's own tests can load it without loading the simulator.
import type { DeviceState } from '@hotpatch/core';
import type { AgentReport } from '@hotpatch/fleet';

/** What the agent needs of a device: the log's view of it (a fleet projection's DeviceRecord is one). */
export interface AgentDevice {
  readonly id: string;
  readonly version: number;
  readonly state: DeviceState;
}

type WithoutAgent<R> = R extends AgentReport ? Omit<R, 'id' | 'device'> : never;
/** A report without the agent's id and device (the agent adds them). */
export type ReportBody = WithoutAgent<AgentReport>;

/** Sends a report that reaches the service at `at` (ms since the epoch). */
export type Send = (at: number, report: AgentReport) => void;

/**
 * A device's agent: called when the service has changed the device (once per device version), it sends the reports
 * the device will make, each at a time ≥ now, or nothing.
 */
export type Agent = (device: AgentDevice, now: number, send: Send) => void;

/** Each `after` is in ms from the moment the agent is asked. */
export type ApplyAnswer =
  /** Applied; `healthFirst`: the health report overtakes the apply report (sent before it, at its own time). */
  | { readonly kind: 'applied'; readonly after: number; readonly healthFirst?: HealthAnswer }
  | { readonly kind: 'apply-failed'; readonly after: number; readonly reason: string }
  /** The apply never finishes: nothing is reported (the orchestrator times it out). */
  | { readonly kind: 'stalled' };
export interface HealthAnswer {
  readonly healthy: boolean;
  readonly after: number;
  /** Why it is unwell (sent only when it is). */
  readonly signal: string;
}
export interface RollbackAnswer {
  readonly ok: boolean;
  readonly after: number;
  /** Why the rollback failed (sent only when it did). */
  readonly reason: string;
}
export interface RestartAnswer {
  readonly after: number;
  /** How long the restart took the device down (recorded in the report's meta); absent: not said. */
  readonly downtimeMinutes?: number;
  /** Whether the device is well on what it installed (absent: well; going back to the update before always is). */
  readonly healthy?: boolean;
  readonly signal?: string;
}

/** Where the agent's outcomes come from: one question per step the service can ask of a device. */
export interface AnswerSource {
  apply(device: AgentDevice, patch: string): ApplyAnswer;
  health(device: AgentDevice, patch: string): HealthAnswer;
  rollback(device: AgentDevice, patch: string): RollbackAnswer;
  /** A restart installing `baseline` (a baseline or a cumulative update), for `reason` (the device's rebootReason). */
  restart(device: AgentDevice, baseline: string, reason: string | null): RestartAnswer;
  /** The report's id (a retry sends the same one), from the device, the moment the agent decided and the report. */
  reportId(device: AgentDevice, now: number, report: ReportBody): string;
}

/** How a report reaches the service: `send` it (at once, later, twice) or lose it. Default: sent as it is. */
export type Delivery = (device: AgentDevice, at: number, report: AgentReport, send: Send) => void;

/** The one device agent: asks `answers` how the step the device is in went, and reports it through `delivery`. */
export function deviceAgent(answers: AnswerSource, delivery?: Delivery): Agent {
  return (device, now, send) => {
    const report = (after: number, body: ReportBody) => {
      const full = { ...body, id: answers.reportId(device, now, body), device: device.id } as AgentReport;
      if (delivery === undefined) send(now + after, full);
      else delivery(device, now + after, full, send);
    };
    const health = (patch: string, h: HealthAnswer) => report(h.after, { kind: 'health', patch, healthy: h.healthy, ...(h.healthy ? {} : { signal: h.signal }) });
    const { value, context } = device.state;
    const patch = context.inFlight?.patch;
    switch (value) {
      case 'applying': {
        const a = answers.apply(device, patch!);
        if (a.kind === 'stalled') return;
        if (a.kind === 'apply-failed') return report(a.after, { kind: 'apply-failed', patch: patch!, reason: a.reason });
        if (a.healthFirst !== undefined) health(patch!, a.healthFirst);
        return report(a.after, { kind: 'applied', patch: patch! });
      }
      case 'applied':
        return health(patch!, answers.health(device, patch!));
      case 'rollingBack': {
        const r = answers.rollback(device, patch!);
        return report(r.after, r.ok ? { kind: 'rolled-back', patch: patch! } : { kind: 'rollback-failed', patch: patch!, reason: r.reason });
      }
      case 'needsReboot': {
        const baseline = context.rebootBaseline ?? context.baseline!;
        const r = answers.restart(device, baseline, context.rebootReason);
        // Going back to the update before is well, as the orchestrator assumes.
        const healthy = context.rebootReason === 'update-uninstall' || r.healthy !== false;
        return report(r.after, {
          kind: 'baseline-installed',
          baseline,
          ...(healthy ? {} : { healthy: false, ...(r.signal !== undefined ? { signal: r.signal } : {}) }),
          ...(r.downtimeMinutes !== undefined ? { meta: { downtimeMinutes: r.downtimeMinutes } } : {}),
        });
      }
    }
  };
}
