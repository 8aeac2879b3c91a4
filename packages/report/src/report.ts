/**
 * A report's data, from the log read once into the fleet projection status reports from (and the device bands
 * replay --at gives, from the same device lifecycle) and the history of the stream asked about (as `history` reads
 * it). A what-if is run with the
 * simulator's `whatIf` and its log read the same way, on the same axes.
 */
import { DEVICE_STATES, HotpatchError, type HotpatchEvent } from '@hotpatch/core';
import { fleetStatus } from '@hotpatch/fleet';
import type { HistoryStep } from '@hotpatch/replay';
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
  | { readonly kind: 'rollout'; readonly id: string }
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
  const collector = reportCollector(request);
  await request.read((event) => collector.add(event));
  return reportDataOf(collector, request);
}

/** The collector a report of this subject reads its log into (`add` each event in log order). */
export function reportCollector(request: Pick<ReportRequest, 'subject' | 'source' | 'to'>): LogCollector {
  const { subject } = request;
  if (subject.kind === 'device' && subject.history.length === 0) throw new NothingToReportError(`device ${subject.id} has no events in ${request.source}`);
  return new LogCollector({ ...(request.to !== undefined ? { until: request.to } : {}), ...(subject.kind === 'rollout' ? { rollout: subject.id } : {}) });
}

/**
 * The report's data from what its collector has read so far. The collector may read on and be asked again (the
 * live console keeps one per view and feeds it the log as it grows): the data is the same as a fresh read's.
 */
export async function reportDataOf(collector: LogCollector, request: Omit<ReportRequest, 'read'>): Promise<ReportData> {
  const { subject } = request;
  if (collector.events === 0) throw new NothingToReportError(`${request.source} holds no events${request.to !== undefined ? ` by ${request.to}` : ''}`);
  const track = collector.track;
  if (subject.kind === 'rollout' && track?.first == null) throw new NothingToReportError(`rollout ${subject.id} has no events in ${request.source}`);
  // The axis: as asked, or the rollout's events and two days after (what its halt did), the device's and a day, the log.
  const [first, last] = subject.kind === 'rollout' ? [track!.first!, track!.last! + 2 * DAY] : subject.kind === 'device' ? [Date.parse(subject.history[0]!.event.time), Date.parse(subject.history.at(-1)!.event.time) + DAY] : [Date.parse(collector.first), Date.parse(collector.last)];
  const logEnd = Date.parse(collector.last);
  const title = subject.kind === 'fleet' ? 'the fleet' : `${subject.kind} ${subject.id}`;
  const end = request.to !== undefined ? Date.parse(request.to) : Math.min(last, Math.max(logEnd, first));
  // A window opening where the axis ends would draw nothing, its marks before its start.
  if (request.from !== undefined && request.to === undefined && Date.parse(request.from) >= end) {
    throw new NothingToReportError(`--from ${request.from} is not before the end of ${title}'s time axis (${new Date(end).toISOString()}): give an earlier --from, or a --to after it`);
  }
  const { base, from, to } = collector.setWindow(request.from !== undefined ? Date.parse(request.from) : first, end);
  const progressOf = (c: LogCollector, id: string) => fleetStatus(c.projection, c.projection.latestTime).rollouts.find((r) => r.rollout === id);
  return {
    kind: subject.kind,
    title,
    source: request.source,
    base: new Date(base).toISOString(),
    window: [0, to - base],
    states: DEVICE_STATES,
    lifecycle: lifecycleDiagram(),
    rollout: subject.kind === 'rollout' ? rolloutSection(track!, progressOf(collector, subject.id)!, collector) : null,
    device: subject.kind === 'device' ? deviceSection(subject.id, subject.history, collector) : null,
    fleet: subject.kind === 'rollout' ? [] : fleetLanes(collector),
    whatIf: request.whatIf === undefined ? null : await whatIfSection(request.whatIf, subject, request.to, from, to, progressOf),
  };
}

/** The what-if run's log, read as the recorded one is (up to `until`, --to), on the recorded one's axes. */
async function whatIfSection(
  options: NonNullable<ReportRequest['whatIf']>,
  subject: ReportSubject,
  until: string | undefined,
  from: number,
  to: number,
  progressOf: (c: LogCollector, id: string) => ReturnType<typeof fleetStatus>['rollouts'][number] | undefined,
): Promise<WhatIfSection> {
  const store = createInMemoryEventStore();
  await whatIf({ recorded: options.recorded, policy: options.policy, store });
  const collector = new LogCollector({ ...(until !== undefined ? { until } : {}), ...(subject.kind === 'rollout' ? { rollout: subject.id } : {}) });
  for await (const e of readLog(store)) collector.add(e);
  collector.setWindow(from, to);
  const progress = subject.kind === 'rollout' ? progressOf(collector, subject.id) : undefined;
  const rollout = subject.kind === 'rollout' && progress !== undefined && collector.track?.first != null ? rolloutSection(collector.track, progress, collector) : null;
  // A device's what-if is its own band; the fleet's, every device's.
  const fleet =
    subject.kind === 'rollout' ? [] : subject.kind === 'device' ? [{ ring: collector.projection.devices.get(subject.id)?.ring ?? 'device', devices: [{ id: subject.id, steps: collector.band(subject.id) }] }] : fleetLanes(collector);
  return { policy: options.name, rollout, fleet };
}
