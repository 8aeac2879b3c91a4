import { InvalidEventError, isIsoUtc, deviceStream, type HotpatchEvent } from '@hotpatch/core';
import { deviceHistory, historyOfFile, type ReplayPoint } from '@hotpatch/replay';
import { buildReportData, pageAssets, reportHtml, type ReportSubject } from '@hotpatch/report';
import { readLogPages, writeFileAtomically, type EventStore } from '@hotpatch/store';
import { CheckFailed, parse, UsageError, type CommandSpec } from '../args.js';
import { describeSource, eachStorePage, namesFile, openEventStore, readSource, sourceFrom, type StoreSource } from '../store-source.js';
import { noTenant, ofTenant, TENANT_OPTION, TENANT_USAGE, tenantEvents, tenantFlag, tenantReader } from '../tenant.js';
import { mustExist, timelineEvents } from '../timeline-input.js';
import { readPolicyFile } from './simulate.js';
import { problemLine } from './verify.js';

export const reportCommand: CommandSpec = {
  name: 'report',
  summary: 'an incident report as one HTML page: a rollout, a device or the fleet over time, with a time cursor',
  usage: `hotpatch report --store <source> | <file.jsonl>  --rollout ID | --device ID | --fleet  [--from TIME] [--to TIME] [--whatif policy.json] [--out report.html] [--tenant T]

  Writes one self-contained HTML file (script, style and data inlined: it opens from file:// and asks the network
  for nothing). A rollout: a time axis with a lane per ring, each device's state as colour bands (a large ring
  aggregated, with drill-down to its devices), failures against each ring's budget, gates, pauses (who, why), the
  halt with its reason and what it did to each device in flight. A device: its state band, every event with the
  state before and after (as history gives them), and the lifecycle drawn from the machine with its path
  highlighted. The fleet: every device by ring. Each has a time cursor: every device's state at the time picked
  (as replay --at gives it). --whatif runs the log's releases again under a policy (as whatif does) and draws the
  what-if run beside the recorded one on the same axes. The figures come from the projections of status, history
  and replay (a rollout followed as the log is read, as history --rollout folds it). --from/--to bound the time axis (ISO-8601 UTC; by default the rollout's events and two days after,
  the device's, or the whole log; a --from alone must open before that axis ends); --to also stops reading the log there.
  --out defaults to report.html; it may not name the log or the policy read (exit 2).
  ${TENANT_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      store: { type: 'string' },
      rollout: { type: 'string' },
      device: { type: 'string' },
      fleet: { type: 'boolean' },
      from: { type: 'string' },
      to: { type: 'string' },
      whatif: { type: 'string' },
      out: { type: 'string' },
      ...TENANT_OPTION,
    });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const tenant = tenantFlag(values.tenant);
    const asked = (['rollout', 'device', 'fleet'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
    if (asked.length !== 1) throw new UsageError(asked.length === 0 ? 'one of --rollout ID, --device ID or --fleet is required' : `${asked.map((k) => `--${k}`).join(' and ')}: give one of them`);
    for (const [k, v] of Object.entries({ from: values.from as string | undefined, to: values.to as string | undefined })) {
      if (v !== undefined && !isIsoUtc(v)) throw new UsageError(`--${k}: expected an ISO-8601 UTC time like 2026-02-10T14:03:00Z, got ${JSON.stringify(v)}`);
    }
    if (values.from !== undefined && values.to !== undefined && Date.parse(values.from as string) >= Date.parse(values.to as string)) throw new UsageError(`--from ${String(values.from)} is not before --to ${String(values.to)}`);
    const out = (values.out as string | undefined) ?? 'report.html';
    // The report is written once the log is read: over the log (or the policy) it would replace it with HTML.
    for (const read of [source.kind === 'postgres' ? undefined : source.path, values.whatif as string | undefined]) {
      if (read !== undefined && (await namesFile(out, read))) throw new UsageError(`--out ${out} is the file the report reads`);
    }
    const assets = pageAssets();
    const policy = values.whatif === undefined ? undefined : await readPolicyFile(values.whatif as string, '--whatif');
    if (source.kind === 'jsonl') await mustExist(source.path, { readTwice: true });
    const until: ReplayPoint = values.to !== undefined ? { kind: 'time', time: values.to as string } : { kind: 'end' };
    const subject = await subjectOf(source, tenant, asked[0]!, (values.rollout ?? values.device) as string | undefined, until);
    let whatIfStore: EventStore | undefined;
    let eventsRead = 0;
    try {
      const data = await buildReportData({
        subject,
        source: ofTenant(describeSource(source), tenant),
        ...(values.from !== undefined ? { from: values.from as string } : {}),
        ...(values.to !== undefined ? { to: values.to as string } : {}),
        read: (add) =>
          readWhole(
            source,
            tenant,
            (e) => {
              eventsRead++;
              add(e);
            },
            (text) => io.err(text),
          ),
        ...(policy !== undefined ? { whatIf: { name: values.whatif as string, policy, recorded: await recordedLog(source, tenant, (s) => (whatIfStore = s)) } } : {}),
      }).catch((error: unknown) => {
        // A named tenant the log holds nothing of: a mistaken name, most likely.
        if (tenant !== undefined && eventsRead === 0) throw new CheckFailed(noTenant(tenant, describeSource(source)));
        throw error instanceof InvalidEventError ? new CheckFailed(problemLine(error)) : error;
      });
      const html = reportHtml(data, assets);
      await writeFileAtomically(out, (file) => file.writeFile(html));
      io.out(`wrote ${out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB): ${data.title}, ${data.base.slice(0, 16).replace('T', ' ')} onwards`);
    } finally {
      await whatIfStore?.close();
    }
  },
};

/** The history of the device asked about, read as `history` reads it (its stream alone from a store; a tenant's, as it names it). */
async function subjectOf(source: StoreSource, tenant: string | undefined, kind: 'rollout' | 'device' | 'fleet', id: string | undefined, until: ReplayPoint): Promise<ReportSubject> {
  if (kind !== 'device') return kind === 'fleet' ? { kind } : { kind, id: id! };
  const history =
    source.kind === 'jsonl' && tenant === undefined
      ? await historyOfFile.device(source.path, id!, until)
      : deviceHistory(await readSource(source, { stream: deviceStream(id!), ...(tenant !== undefined ? { tenant } : {}) }), id!, until);
  return { kind, id: id!, history };
}

/** The whole log as `status` reads it: a file line by line (checked as it is read), a store page by page; a named tenant's events alone. */
async function readWhole(source: StoreSource, tenant: string | undefined, add: (event: HotpatchEvent) => void, say: (text: string) => void): Promise<void> {
  if (source.kind === 'jsonl') {
    const mine = tenantReader(tenant) ?? ((events: readonly HotpatchEvent[]) => events);
    // A file without hashes: said first, as status says it (the report's figures may rest on changed events).
    for await (const events of timelineEvents(source.path, { say })) for (const e of mine(events)) add(e);
    return;
  }
  await eachStorePage(
    source,
    (events) => {
      for (const e of events) add(e);
    },
    tenant !== undefined ? { tenant } : {},
  );
}

/** The recorded log for a what-if, read from the start each time it is asked for (as `whatif` reads it: a tenant's events alone). */
async function recordedLog(source: StoreSource, tenant: string | undefined, opened: (store: EventStore) => void) {
  const mine = tenantEvents(tenant);
  if (source.kind === 'jsonl') {
    const path = source.path;
    return async function* () {
      for await (const events of timelineEvents(path, { check: false })) yield* mine(events);
    };
  }
  const store = await openEventStore(source, { readonly: true });
  opened(store);
  return async function* () {
    for await (const page of readLogPages(store)) yield* mine(page);
  };
}
