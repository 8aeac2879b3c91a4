import { foldFile, foldTimeline, fleetOf, TimelineFold, toDeviceView, type ReplayPoint, type DeviceView } from '@hotpatch/replay';
import { deviceStream, isIsoUtc } from '@hotpatch/core';
import { mustExist } from '../timeline-input.js';
import { CheckFailed, UsageError, parse, positiveInt, type CommandSpec } from '../args.js';
import { countBy, json, table } from '../format.js';
import { describeSource, eachStorePage, readSource, sourceFrom } from '../store-source.js';

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
  an array of those sorted by device.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      device: { type: 'string' },
      at: { type: 'string' },
      position: { type: 'string' },
      json: { type: 'boolean' },
      store: { type: 'string' },
    });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const until = replayPoint(values.at as string | undefined, values.position as string | undefined);
    const file = describeSource(source);
    // A timeline file is folded as it is read, line by line; a store's log page by page, or one stream's events
    // alone, read by its index.
    const fold = async (stream?: string) => {
      if (source.kind === 'jsonl') {
        await mustExist(source.path);
        return (await foldFile(source.path, { until, ...(stream !== undefined ? { stream } : {}) })).streams;
      }
      if (stream !== undefined) return foldTimeline(await readSource(source, { stream }), { until, stream }).streams;
      const folding = new TimelineFold({ until });
      await eachStorePage(source, (events) => events.every((e) => folding.add(e)));
      return folding.result().streams;
    };
    if (values.device !== undefined) {
      const device = values.device as string;
      const folded = (await fold(deviceStream(device))).get(deviceStream(device));
      const view = folded && toDeviceView(folded);
      if (!view) throw new CheckFailed(`device ${device} has no events in ${file}${until.kind === 'end' ? '' : ' by then'}`);
      io.out(values.json ? json(view) : table(['device', 'state', 'baseline', 'patches', 'inFlight', 'version', 'time'], [row(view)]));
      return;
    }
    const fleet = fleetOf(await fold());
    if (values.json) {
      io.out(json(fleet));
      return;
    }
    io.out(table(['device', 'state', 'baseline', 'patches', 'inFlight', 'version', 'time'], fleet.map(row)));
    const counts = [...countBy(fleet, (v) => v.state)].sort((a, b) => b[1] - a[1]);
    io.out(`\n${fleet.length} devices: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}`);
  },
};
