import { catchUpProjection, FleetProjection, fleetStatus, COMPLIANCE_ORDER, GAPS, restoreSavedProjection, type FleetStatus } from '@hotpatch/fleet';
import { bearerToken, CheckFailed, parse, serviceUrl, UsageError, type CommandSpec } from '../args.js';
import { json, table } from '../format.js';
import { InvalidEventError, type HotpatchEvent } from '@hotpatch/core';
import { scopeStore } from '@hotpatch/store';
import { noTenant, TENANT_OPTION, TENANT_USAGE, tenantFlag, tenantReader } from '../tenant.js';
import { describeSource, eachStorePage, openEventStore, sourceFrom, STORE_PAGE, type StoreSource } from '../store-source.js';
import { timelineEvents } from '../timeline-input.js';
import { problemLine } from './verify.js';
import { rolloutLines } from '../rollout-text.js';
import { expectStatus, serviceClient, ServiceCallError } from '@hotpatch/simulator';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const days = (x: number | null) => (x === null ? '-' : x.toFixed(1));

export function printStatus(status: FleetStatus, out: (text: string) => void): void {
  out(`Compliance (${status.devices} devices, as of ${status.at})`);
  out(table(['', 'devices', 'share'], COMPLIANCE_ORDER.map((c) => [c, String(status.compliance[c]), pct(status.devices ? status.compliance[c] / status.devices : 0)])));
  out(`Up to date: ${pct(status.upToDateShare)} of the fleet — target ${pct(status.target)}: ${status.meetsTarget ? 'met' : 'NOT met'}`);
  for (const r of status.pausedRings) {
    out(`Ring ${r.ring} paused since ${r.since.slice(0, 16).replace('T', ' ')} — ${r.holds.map((h) => `by ${h.by}${h.reason ? ` (${h.reason})` : ''}`).join(' and ')}: it receives nothing new, whatever the release`);
  }
  if (status.rollouts.length) out('\nRollouts');
  for (const r of status.rollouts) {
    const where =
      r.state === 'halted' ? ` — ${r.haltReason}` : r.state === 'paused' ? ` — by ${r.pausedBy.join(' and ')}` : (r.state === 'rolling' || r.state === 'betweenRings') && r.ring ? ` — ring ${r.ring}` : '';
    out(`  ${r.release}: ${r.state}${where}`);
    for (const line of rolloutLines(r)) out(line);
    if (r.state === 'halted' && r.rings.some((g) => g.withdrawn > 0)) out(`    hotpatch history --rollout ${r.rollout} shows each event`);
  }
  if (status.exposure.length) {
    out('\nExposure: days from release to protection, per device');
    out(
      table(
        ['release', 'kind', 'released', 'protected', 'still exposed', 'median', 'p95', 'worst'],
        status.exposure.map((e) => [e.release, e.kind, e.releasedAt.slice(0, 10), String(e.protectedDevices), String(e.stillExposed), days(e.medianDays), days(e.p95Days), days(e.worstDays)]),
      ),
    );
  }
  if (status.setAside.length) out(`\nSet aside (agent silent, not counted against budgets): ${status.setAside.slice(0, 20).join(', ')}${status.setAside.length > 20 ? ', …' : ''}`);
  if (status.healed.length) {
    const n = status.healed.length;
    out(`\nHealed: ${n} instruction${n === 1 ? '' : 's'} a unit of work cut short between its appends, carried on by a later tick`);
    for (const h of status.healed.slice(0, 20)) out(`  ${h.device} (${h.rollout}): ${GAPS[h.gap]}; healed ${h.at.slice(0, 16).replace('T', ' ')}`);
    if (n > 20) out(`  … and ${n - 20} more (--json lists them all)`);
  }
}

export const statusCommand: CommandSpec = {
  name: 'status',
  summary: 'rollout progress, compliance and exposure of a fleet, from its log',
  usage: `hotpatch status --store <source> | <file.jsonl> | --server URL --token T  [--target SHARE] [--json]

  Folds the log into the fleet's state as of its last event and prints: each device's compliance in Autopatch's
  terms (up to date, in progress, paused, not up to date, not ready, needs reboot) and the share up to date
  against a target (default 0.95); each rollout's progress ring by ring (devices, budget, in flight, succeeded,
  failed, set aside, gate; a halted one's withdrawn devices, and what its halt saw and what came after it); for
  each release, the devices protected and still exposed, and the days from release to protection (median, p95,
  worst: to when each device's current protection began); the rings paused, by whom and why; and the instructions
  a unit of work cut short between its appends that a later tick healed (which device, rollout and gap). A release is
  known from its rollout's plan. The figures are defined in docs/domain.md.

  --server URL --token T: ask a running hotpatch serve (GET /v1/status, the same figures from its projection)
  with a token that may read the fleet (operator, tenant admin, auditor).

  --projection NAME (with --store): start from the projection the orchestrator saved under NAME (its checkpoint
  option) and fold only the log after it; the same answer as folding the whole log, sooner on a long one. When
  there is no usable one under that name, it says so and folds the whole log (a tenant's, with --tenant).

  ${TENANT_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { store: { type: 'string' }, target: { type: 'string' }, projection: { type: 'string' }, json: { type: 'boolean' }, server: { type: 'string' }, token: { type: 'string' }, ...TENANT_OPTION });
    const tenant = tenantFlag(values.tenant);
    const reader = tenantReader(tenant);
    const apply = (projection: FleetProjection, events: readonly HotpatchEvent[]) => {
      for (const e of reader === undefined ? events : reader(events)) projection.apply(e);
    };
    const target = values.target === undefined ? 0.95 : Number(values.target);
    if (!(target > 0 && target <= 1)) throw new UsageError(`--target: expected a share between 0 and 1, got ${JSON.stringify(values.target)}`);
    if (values.token !== undefined && values.server === undefined) throw new UsageError('--token goes with --server (a token of the service); a store or file is read without one');
    if (values.server !== undefined) {
      if (values.store !== undefined || positionals.length > 0 || tenant !== undefined) throw new UsageError('--server reads the fleet from the service (the token says whose): give no --store, file nor --tenant with it');
      const status = await statusFromServer(values.server as string, values.token as string | undefined, target);
      if (values.json) io.out(json(status));
      else printStatus(status, io.out);
      return;
    }
    const source = sourceFrom(positionals, values.store as string | undefined);
    const name = values.projection as string | undefined;
    let projection: FleetProjection;
    if (name !== undefined) {
      if (source.kind === 'jsonl') throw new UsageError('--projection needs --store: a timeline file keeps no saved projection');
      projection = await fromSavedProjection(source, name, tenant, (text) => io.err(text));
    } else if (source.kind !== 'jsonl') {
      // A store's log is applied page by page: only the projection is held, never the log.
      projection = new FleetProjection();
      await eachStorePage(source, (events) => apply(projection, events));
    } else {
      // A timeline file line by line: the first invalid line fails the command, naming it.
      projection = new FleetProjection();
      try {
        for await (const events of timelineEvents(source.path, { say: (text) => io.err(text) })) apply(projection, events);
      } catch (error) {
        throw error instanceof InvalidEventError ? new CheckFailed(problemLine(error)) : error;
      }
    }
    if (tenant !== undefined && projection.latestTime === '') throw new CheckFailed(noTenant(tenant, describeSource(source)));
    if (!values.json && projection.latestTime === '') {
      io.out(`the log is empty: ${describeSource(source)} holds no events`);
      return;
    }
    const status = fleetStatus(projection, projection.latestTime || new Date().toISOString(), target);
    if (values.json) io.out(json(status));
    else printStatus(status, io.out);
  },
};

/** The status a running service gives (GET /v1/status): the same document `status --json` prints. */
async function statusFromServer(server: string, token: string | undefined, target: number): Promise<FleetStatus> {
  serviceUrl(server);
  bearerToken(token, '--server needs --token: a token that may read the fleet (operator, tenant admin, auditor)');
  const client = serviceClient({ server, attempts: 3 });
  const status = expectStatus(await client.call('GET', `/v1/status?target=${target}`, token!), 'GET', '/v1/status', 200) as FleetStatus;
  // A 200 from something else at that address (another service, a proxy's page) is not printed as a fleet.
  if (typeof status !== 'object' || status === null || typeof status.compliance !== 'object' || !Array.isArray(status.rollouts)) {
    throw new ServiceCallError('GET', '/v1/status', 200, `the answer is not a hotpatch status: is ${server} a hotpatch service?`);
  }
  return status;
}

/** A store's fleet projection: the one saved under `name` when it is usable, plus the log after it. */
async function fromSavedProjection(source: StoreSource, name: string, tenant: string | undefined, say: (text: string) => void): Promise<FleetProjection> {
  const opened = await openEventStore(source, { readonly: true });
  // A tenant's projection is saved under its own name, and folds its events alone (scopeStore).
  const store = tenant === undefined ? opened : scopeStore(opened, tenant);
  try {
    const projection = new FleetProjection();
    const found = await restoreSavedProjection(projection, store, name);
    if (found === 'missing') say(`no projection saved under ${JSON.stringify(name)}: folding the whole log`);
    else if (found === 'untrusted') say(`the projection saved under ${JSON.stringify(name)} is another build's: folding the whole log`);
    await catchUpProjection(projection, store, STORE_PAGE);
    return projection;
  } finally {
    await opened.close();
  }
}
