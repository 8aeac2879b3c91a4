/**
 * A report's data, from the log read once into the fleet projection status reports from (and the device bands
 * replay --at gives, from the same device lifecycle) and the history of the stream asked about (as `history` reads
 * it). A what-if is run with the
 * simulator's `whatIf` and its log read the same way, on the same axes.
 */
import { DEVICE_STATES, HotpatchError, type HotpatchEvent } from '@hotpatch/core';
import { fleetStatus } from '@hotpatch/fleet';
import { rolloutHistory, type HistoryStep, type RolloutHistoryStep } from '@hotpatch/replay';
import { whatIf, type WhatIfOptions } from '@hotpatch/simulator';
import { createInMemoryEventStore, readLog } from '@hotpatch/store';
import { LogCollector } from './collect.js';
import { deviceSection } from './device-section.js';
import { fleetLanes } from './fleet-lanes.js';
import { lifecycleDiagram } from './lifecycle-diagram.js';
import type { ReportData, WhatIfSection } from './model.js';
import { rolloutSection } from './rollout-section.js';

const DAY = 86_400_000;

/** Nothing to report: the rollout or device has no events in the log, or the window holds none. */
export class NothingToReportError extends HotpatchError {
  readonly code = 'NOTHING_TO_REPORT';
}

export type ReportSubject =
  | { readonly kind: 'rollout'; readonly id: string; readonly history: readonly RolloutHistoryStep[] }
  | { readonly kind: 'device'; readonly id: string; readonly history: readonly HistoryStep[] }
  | { readonly kind: 'fleet' };

export interface ReportRequest {
  readonly subject: ReportSubject;
  /** The log, as the CLI names it. */
  readonly source: string;
  /** The time axis (ISO-8601 UTC); by default the rollout's events (and two days after), the device's, or the log's. */
  readonly from?: string;
  readonly to?: string;
  /** Reads the whole log in its order (checked as `status` checks it), giving each event to `add`. */
  readonly read: (add: (event: HotpatchEvent) => void) => Promise<void>;
  /** The same releases run again under another policy (what `hotpatch whatif` runs), drawn beside the log. */
  readonly whatIf?: { readonly name: string } & Pick<WhatIfOptions, 'recorded' | 'policy'>;
}

export async function buildReportData(request: ReportRequest): Promise<ReportData> {
  const { subject } = request;
  const history = subject.kind === 'fleet' ? [] : subject.history;
  if (subject.kind !== 'fleet' && history.length === 0) throw new NothingToReportError(`${subject.kind} ${subject.id} has no events in ${request.source}`);
  const first = history[0]?.event.time;
  const last = history.at(-1)?.event.time;
  const margin = subject.kind === 'rollout' ? 2 * DAY : DAY;
  const from = request.from !== undefined ? Date.parse(request.from) : first !== undefined ? Date.parse(first) : -Infinity;
  const to = request.to !== undefined ? Date.parse(request.to) : last !== undefined ? Date.parse(last) + margin : Infinity;
  const collector = new LogCollector({ from, to, endAtLog: request.to === undefined }, request.to);
  await request.read((event) => collector.add(event));
  if (collector.events === 0) throw new NothingToReportError(`${request.source} holds no events${request.to !== undefined ? ` by ${request.to}` : ''}`);
  const { base, from: start, to: end } = collector.window;
  const status = fleetStatus(collector.projection, collector.projection.latestTime);
  const progressOf = (id: string, of = status) => of.rollouts.find((r) => r.rollout === id);
  let rollout: ReportData['rollout'] = null;
  let device: ReportData['device'] = null;
  if (subject.kind === 'rollout') rollout = rolloutSection(subject.id, subject.history, progressOf(subject.id)!, collector);
  if (subject.kind === 'device') device = deviceSection(subject.id, subject.history, collector);
  const title = subject.kind === 'fleet' ? 'the fleet' : `${subject.kind} ${subject.id}`;
  return {
    kind: subject.kind,
    title,
    source: request.source,
    base: new Date(base).toISOString(),
    window: [start - base, end - base],
    states: DEVICE_STATES,
    lifecycle: lifecycleDiagram(),
    rollout,
    device,
    fleet: subject.kind === 'rollout' ? [] : fleetLanes(collector),
    whatIf: request.whatIf === undefined ? null : await whatIfSection(request.whatIf, subject, { from: start, to: end }),
  };
}

/** The what-if run's log, folded as the recorded one is, on the recorded one's axes. */
async function whatIfSection(options: NonNullable<ReportRequest['whatIf']>, subject: ReportSubject, window: { from: number; to: number }): Promise<WhatIfSection> {
  const store = createInMemoryEventStore();
  await whatIf({ recorded: options.recorded, policy: options.policy, store });
  const events: HotpatchEvent[] = [];
  for await (const e of readLog(store)) events.push(e);
  const collector = new LogCollector({ ...window, endAtLog: false });
  for (const e of events) collector.add(e);
  let rollout: WhatIfSection['rollout'] = null;
  if (subject.kind === 'rollout') {
    const progress = fleetStatus(collector.projection, collector.projection.latestTime).rollouts.find((r) => r.rollout === subject.id);
    if (progress !== undefined) rollout = rolloutSection(subject.id, rolloutHistory({ events }, subject.id), progress, collector);
  }
  // A device's what-if is its own band; the fleet's, every device's.
  const fleet =
    subject.kind === 'rollout' ? [] : subject.kind === 'device' ? [{ ring: collector.projection.devices.get(subject.id)?.ring ?? 'device', devices: [{ id: subject.id, steps: collector.band(subject.id) }] }] : fleetLanes(collector);
  return { policy: options.name, rollout, fleet };
}
