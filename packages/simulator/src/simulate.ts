// The simulator: a fleet, its releases and agents with seeded faults, driven through the orchestrator on a simulated
// clock; the same seed writes the same log, byte for byte (see README.md).
import {
  declareOutOfBand,
  declareUnplannedBaseline,
  deferralsFrom,
  patchTuesday,
  planReleases,
  seededRandom,
  type Catalog,
  type Release,
} from '@hotpatch/core';
import { createEngine, timedNameBasedIds } from '@hotpatch/engine';
import { inBatch, readLog, type EventStore } from '@hotpatch/store';
import { cumulativeUpdateOf, simulatedClock, type AgentReport, type FleetPolicy, type ReleaseToRoll } from '@hotpatch/fleet';
import { deviceAgent } from './agent.js';
import { breathe, driveService, type DriveOptions } from './drive.js';
import { DEFAULT_FAULTS, faultAnswers, faultDelivery, type Faults } from './faults.js';
import { FigureTally, figuresFromLog, type ArmFigures } from './figures.js';
import { buildSimFleet } from './fleet.js';

export type Arm = 'hotpatch' | 'traditional';

export interface SimulationOptions {
  readonly devices: number;
  readonly months: number;
  readonly seed: number;
  readonly policy: FleetPolicy;
  readonly store: EventStore;
  /** hotpatch: the hotpatch calendar through the orchestrator; traditional: a cumulative update with a restart every month. */
  readonly arm: Arm;
  readonly faults?: Faults;
  /** First month, "YYYY-MM" (default 2026-01). */
  readonly from?: string;
  /** The releases (default: the months' planned releases, one unplanned baseline and one out-of-band fix). */
  readonly catalog?: Catalog;
  /** Share of the fleet in the first ring (default 0.05). */
  readonly firstRingShare?: number;
  /** What people do on the way (pauses, resumes), at their times: see driveService. */
  readonly interventions?: DriveOptions['interventions'];
  /** Called about once per simulated day. */
  readonly onProgress?: (progress: { readonly at: string; readonly share: number }) => void;
  /** The orchestrator's `instructionsPerUnit` (the log is the same whatever it is). */
  readonly instructionsPerUnit?: number;
}

export interface SimulationResult {
  readonly arm: Arm;
  readonly releases: readonly Release[];
  readonly start: string;
  readonly end: string;
  readonly figures: ArmFigures;
}

const NAMESPACE = '5b0e7c3a-2f8d-4a61-b9e4-7d1c6f3a8e20';
/** The simulation's own ids: derived from what they name and when, so that a seed always writes the same log. */
const simTimedId = timedNameBasedIds(NAMESPACE);
const HOUR = 3_600_000;
/** The step a report answers, as the simulation's report ids name it. */
const STEP: Record<AgentReport['kind'], string> = { applied: 'apply', 'apply-failed': 'apply', health: 'health', 'rolled-back': 'rollback', 'rollback-failed': 'rollback', 'baseline-installed': 'reboot' };
const pad = (n: number) => String(n).padStart(2, '0');

/** The simulation's calendar: planned releases, one unplanned baseline and one out-of-band hotpatch. */
export function simulationCatalog(from: string, months: number): Catalog {
  let catalog = planReleases({ from, months });
  const hotpatchMonths = catalog.releases.filter((r) => r.kind === 'hotpatch' && !r.outOfBand);
  // An unplanned baseline replaces a hotpatch month in the middle of the period (when there is one to replace).
  const unplanned = hotpatchMonths[Math.floor(hotpatchMonths.length / 2) + 1];
  if (unplanned && months >= 5) catalog = declareUnplannedBaseline(catalog, unplanned.id.slice(3));
  // An out-of-band hotpatch ten days after the second month's Patch Tuesday.
  if (months >= 2) {
    const [y, m] = from.split('-').map(Number) as [number, number];
    const month = m === 12 ? 1 : m + 1;
    const year = m === 12 ? y + 1 : y;
    const released = new Date(patchTuesday(year, month).getTime() + 10 * 24 * HOUR).toISOString();
    catalog = declareOutOfBand(catalog, `OOB-${year}-${pad(month)}`, released);
  }
  return catalog;
}

/** A release as the given arm rolls it out. */
function rolloutOf(release: Release, arm: Arm, catalog: Catalog): ReleaseToRoll {
  // An out-of-band release is expedited in either form: the rings' deferrals count from the Patch Tuesday before it.
  const from = deferralsFrom(catalog, release);
  const expedited = from < release.released ? { deferralsFrom: from } : {};
  // A month's cumulative update, installed with a restart: every release in the traditional arm; in the hotpatch
  // arm, a hotpatch's for the devices that cannot take the hotpatch. One name in both arms.
  const cumulativeUpdate = `LCU-${release.id}`;
  if (arm === 'traditional') {
    const id = cumulativeUpdate;
    return { id, kind: 'baseline', releasedAt: release.released, baseline: id, liveRevert: true, rebootReason: release.kind === 'hotpatch' && release.outOfBand ? 'out-of-band' : 'baseline', ...expedited };
  }
  if (release.kind === 'baseline') {
    return { id: release.id, kind: 'baseline', releasedAt: release.released, baseline: release.id, liveRevert: true, rebootReason: release.cause === 'unplanned' ? 'unplanned-baseline' : 'baseline', ...expedited };
  }
  return { id: release.id, kind: 'hotpatch', releasedAt: release.released, baseline: release.baseline, requires: release.requires, liveRevert: release.liveRevert, outOfBand: release.outOfBand, cumulativeUpdate, ...expedited };
}

export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const { store, policy, arm, months } = options;
  const faults = options.faults ?? DEFAULT_FAULTS;
  const from = options.from ?? '2026-01';
  const catalog = options.catalog ?? simulationCatalog(from, months);
  const releases = catalog.releases;
  const fleetRandom = seededRandom(options.seed);
  const random = seededRandom(options.seed * 7919 + 17);
  // The health of cumulative updates is drawn apart, so that it does not move the other faults' draws.
  const updateRandom = seededRandom(options.seed * 7919 + 29);
  const [fy, fm] = from.split('-').map(Number) as [number, number];
  const start = new Date(Date.UTC(fy, fm - 1, 1, 8)).toISOString();
  const end = new Date(Date.UTC(fy, fm - 1 + months, 1, 0)).toISOString();
  const clock = simulatedClock(start);
  const previousBaseline = `B-${fm <= 3 ? fy - 1 : fy}-${pad(fm <= 3 ? 10 : fm <= 6 ? 1 : fm <= 9 ? 4 : 7)}`;

  // The fleet, and when (if ever) each agent goes silent: the same for a seed, whichever arm runs.
  const fleet = buildSimFleet(options.devices, policy.rings.map((r) => r.name), fleetRandom, options.firstRingShare);
  // A silent agent is back after its silence (when the faults say how long), and reports what its device does then.
  const silentFrom = new Map<string, number>();
  const silentUntil = new Map<string, number>();
  const span = Date.parse(end) - Date.parse(start);
  for (const d of fleet) {
    if (!fleetRandom.chance(faults.silentAgents)) continue;
    const from = Date.parse(start) + fleetRandom.next() * span;
    silentFrom.set(d.id, from);
    if (faults.silentDays !== undefined) {
      const [min, max] = faults.silentDays;
      silentUntil.set(d.id, Math.round(from + (min + fleetRandom.next() * (max - min)) * 24 * HOUR));
    }
  }
  const agentsBack = [...silentUntil].filter(([, at]) => at < Date.parse(end)).map(([device, at]) => ({ at, device }));
  const badHotpatch = releases.filter((r) => r.kind === 'hotpatch')[faults.badHotpatchIndex]?.id;
  // That month's cumulative update carries the same bad fix: the traditional arm installs it everywhere, the
  // hotpatch arm on the devices that cannot take the hotpatch.
  const badUpdate = badHotpatch === undefined ? undefined : cumulativeUpdateOf(rolloutOf(releases.find((r) => r.id === badHotpatch)!, 'hotpatch', catalog));

  const engine = createEngine({ store, clock: () => clock.now(), meta: { source: `simulate/${arm}` } });
  // Enrolment in batches of a thousand devices: one store transaction each where the store groups writes.
  for (let i = 0; i < fleet.length; i += 1000) {
    await inBatch(store, async () => {
      for (const d of fleet.slice(i, i + 1000)) {
        await engine.execute({ type: 'EnrolDevice', device: d.id, profile: d.profile, ring: d.ring, baseline: previousBaseline, id: simTimedId(Date.parse(start), `enrol|${d.id}`) });
        await engine.execute({ type: 'AssessEligibility', device: d.id, latestBaseline: previousBaseline, id: simTimedId(Date.parse(start), `assess|${d.id}`) });
      }
    });
    await breathe();
  }

  // The fleet's agents, with the faults drawn. A report's id is led by the simulated time the agent decides at: the
  // ids a day writes lie together in the store's index.
  const agent = deviceAgent(
    faultAnswers({ faults, random, updateRandom, badHotpatch, badUpdate, reportId: (d, now, report) => simTimedId(now, `${arm}|${d.id}|${d.version}|${STEP[report.kind]}`) }),
    faultDelivery({ faults, random, silentFrom, silentUntil }),
  );
  // The figures are counted from the log's events as the service's projection applies them (each once, in log
  // order), and read from that projection at the end: the log is not read a second time. Should they not have been
  // seen to the log's end, it is read again.
  const tally = new FigureTally();
  let seen = 0; // the position of the last event counted
  const projection = await driveService({
    store,
    policy,
    clock,
    start,
    end,
    releases: releases.map((r) => rolloutOf(r, arm, catalog)),
    agent,
    agentsBack,
    meta: { source: `simulate/${arm}` },
    ...(options.interventions ? { interventions: options.interventions } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.instructionsPerUnit !== undefined ? { instructionsPerUnit: options.instructionsPerUnit } : {}),
    onEvent: (e) => {
      seen = e.position;
      tally.add(e);
    },
  });
  const whole = (await store.readAll({ fromPosition: seen + 1, limit: 1 })).length === 0;
  // Otherwise from the log itself, page by page (a large fleet's log need not fit in memory).
  const figures = whole ? tally.figures(projection, months, end) : await figuresFromLog(readLog(store), months, end);
  return { arm, releases, start, end, figures };
}
