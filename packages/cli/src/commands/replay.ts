import { foldFile, foldTimeline, fleetOf, TimelineFold, toDeviceView, type ReplayPoint, type DeviceView } from '@hotpatch/replay';
import { deviceStream, isIsoUtc } from '@hotpatch/core';
import { noTenant, ofTenant, TENANT_OPTION, TENANT_USAGE, tenantFlag, tenantReader } from '../tenant.js';
import { mustExist, timelineEvents, unhashedNote } from '../timeline-input.js';
import { CheckFailed, UsageError, parse, positiveInt, type CommandSpec } from '../args.js';
import { countBy, json, table } from '../format.js';
import { describeSource, eachStorePage, openEventStore, readSource, sourceFrom, type StoreSource } from '../store-source.js';

export function replayPoint(at: string | undefined, position: string | undefined): ReplayPoint {
  if (at !== undefined && position !== undefined) throw new UsageError('--at and --position cannot be used together');
  if (at !== undefined) {
    if (!isIsoUtc(at)) throw new UsageError(`--at: expected an ISO-8601 UTC time like 2026-02-10T14:03:00Z, got ${JSON.stringify(at)}`);
    return { kind: 'time', time: at };
  }
  if (position !== undefined) return { kind: 'position', position: positiveInt(position, '--position', 1) };
  return { kind: 'end' };
}

const row = (v: DeviceView) => [v.device, v.state, v.baseline ?? '-', v.patches.join(',') || '-', v.inFlight ?? '-', String(v.version), v.time];

export const replayCommand: CommandSpec = {
  name: 'replay',
  summary: 'state of every device (or one) at the end, at a time, or at a position',
  usage: `hotpatch replay <file.jsonl> | --store <source>  [--device ID] [--at TIME | --position N] [--json]

  Folds the timeline and prints each device's state. --at TIME keeps the events with time ≤ TIME (ISO-8601 UTC);
  --position N stops after the event at global position N (the line number when events carry no position).
  <source> is path.jsonl, sqlite:path or postgres://….
  With --json --device: {"device","state","baseline","patches","inFlight","version","time"}; without --device,
  an array of those sorted by device.

  ${TENANT_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      device: { type: 'string' },
      at: { type: 'string' },
      position: { type: 'string' },
      json: { type: 'boolean' },
      store: { type: 'string' },
      ...TENANT_OPTION,
    });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const until = replayPoint(values.at as string | undefined, values.position as string | undefined);
    const tenant = tenantFlag(values.tenant);
    const reader = tenantReader(tenant);
    const file = ofTenant(describeSource(source), tenant);
    // A timeline file is folded as it is read, line by line; a store's log page by page, or one stream's events
    // alone, read by its index. `last`: the position of the last event read, and whether the log went on after
    // the replay point, to tell a position past its end.
    let last = 0;
    let read = 0;
    let pastPoint = false;
    const fold = async (stream?: string) => {
      if (source.kind === 'jsonl' && reader !== undefined) {
        // A tenant's events of a file checked whole as it is read (timelineEvents), folded as the tenant names them.
        const folding = new TimelineFold({ until, ...(stream !== undefined ? { stream } : {}) });
        reading: for await (const page of timelineEvents(source.path)) {
          for (const e of reader(page)) {
            read++;
            last = e.position ?? last;
            if (!folding.add(e)) break reading;
          }
        }
        pastPoint = folding.pastPoint;
        return folding.result().streams;
      }
      if (source.kind === 'jsonl') {
        await mustExist(source.path);
        const seen = until.kind === 'position' ? { onStep: (e: { position?: number }, _b: unknown, _a: unknown, _i: number, line: number | undefined) => void (last = e.position ?? line ?? last) } : {};
        const folded = await foldFile(source.path, { until, ...(stream !== undefined ? { stream } : {}), ...seen });
        read = folded.lines;
        pastPoint = folded.pastPoint === true;
        if (!folded.hashed && folded.folded > 0) io.err(unhashedNote(source.path));
        return folded.streams;
      }
      if (stream !== undefined) return foldTimeline(await readSource(source, { stream, ...(tenant !== undefined ? { tenant } : {}) }), { until, stream }).streams;
      const folding = new TimelineFold({ until });
      read = await eachStorePage(
        source,
        (events) => {
          if (events.length) last = events[events.length - 1]!.position;
          return events.every((e) => folding.add(e));
        },
        tenant !== undefined ? { tenant } : {},
      );
      pastPoint = folding.pastPoint;
      return folding.result().streams;
    };
    /** A position past the log's last event is a mistake, not a request for the state at its end. */
    const pastTheEnd = async () => {
      if (!(until.kind === 'position' && !pastPoint && until.position > last && read > 0)) return;
      // A tenant's last event may be followed by other tenants': the position is past the end only if the log's.
      if (tenant !== undefined && (await reaches(source, until.position))) return;
      throw new CheckFailed(`--position ${until.position} is past the end of ${file}: its last event is at position ${last}`);
    };
    if (values.device !== undefined) {
      const device = values.device as string;
      // One stream is read, not the log: whether the log reaches the position is asked of it on its own.
      if (until.kind === 'position' && !(await reaches(source, until.position))) throw new CheckFailed(`--position ${until.position} is past the end of ${file}: it holds no event at or after that position`);
      const folded = (await fold(deviceStream(device))).get(deviceStream(device));
      const view = folded && toDeviceView(folded);
      if (!view) throw new CheckFailed(`device ${device} has no events in ${file}${until.kind === 'end' ? '' : ' by then'}`);
      io.out(values.json ? json(view) : table(['device', 'state', 'baseline', 'patches', 'inFlight', 'version', 'time'], [row(view)]));
      return;
    }
    const fleet = fleetOf(await fold());
    if (read === 0 && tenant !== undefined) throw new CheckFailed(noTenant(tenant, describeSource(source)));
    await pastTheEnd();
    if (values.json) {
      io.out(json(fleet));
      return;
    }
    if (read === 0) {
      io.out(`${file} holds no events: the log is empty`);
      return;
    }
    if (fleet.length === 0) {
      io.out(`no device has events in ${file}${until.kind === 'end' ? '' : ' by then'}`);
      return;
    }
    io.out(table(['device', 'state', 'baseline', 'patches', 'inFlight', 'version', 'time'], fleet.map(row)));
    const counts = [...countBy(fleet, (v) => v.state)].sort((a, b) => b[1] - a[1]);
    io.out(`\n${fleet.length} device${fleet.length === 1 ? '' : 's'}: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}`);
  },
};

/** Whether the log holds an event at or after `position` (a file's events without one are at their line). */
async function reaches(source: StoreSource, position: number): Promise<boolean> {
  if (source.kind !== 'jsonl') {
    const store = await openEventStore(source, { mustExist: true, readonly: true });
    try {
      return (await store.readAll({ fromPosition: position, limit: 1 })).length > 0;
    } finally {
      await store.close();
    }
  }
  let line = 0;
  for await (const events of timelineEvents(source.path, { check: false })) {
    for (const e of events) {
      line++;
      if ((e.position ?? line) >= position) return true;
    }
  }
  return false;
}
