import { deviceHistory } from '@hotpatch/replay';
import { CheckFailed, UsageError, parse, type CommandSpec } from '../args.js';
import { json, table } from '../format.js';
import { describeSource, readSource, sourceFrom } from '../store-source.js';
import { replayPoint } from './replay.js';

function summarise(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  return Object.entries(data)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
    .join(' ');
}

export const historyCommand: CommandSpec = {
  name: 'history',
  summary: "one device's events, each with the state before and after",
  usage: `hotpatch history <file.jsonl> | --store <source>  --device ID [--at TIME | --position N] [--json]

  Lists what happened to one device: each event with the state before and after it. --json prints an array of
  {"position","event","before","after"}.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      device: { type: 'string' },
      at: { type: 'string' },
      position: { type: 'string' },
      json: { type: 'boolean' },
      store: { type: 'string' },
    });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const file = describeSource(source);
    if (values.device === undefined) throw new UsageError('--device ID is required');
    const device = values.device as string;
    const until = replayPoint(values.at as string | undefined, values.position as string | undefined);
    const steps = deviceHistory(await readSource(source, { stopAtFirstProblem: true }), device, until);
    if (steps.length === 0) throw new CheckFailed(`device ${device} has no events in ${file}`);
    if (values.json) {
      io.out(json(steps));
      return;
    }
    io.out(
      table(
        ['position', 'time', 'event', 'state before → after', 'data'],
        steps.map((s) => [String(s.position), s.event.time, s.event.type, `${s.before?.state ?? '(none)'} → ${s.after.state}`, summarise(s.event.data)]),
      ),
    );
    const last = steps[steps.length - 1]!.after;
    io.out(`\n${device}: ${last.state} on ${last.baseline ?? '-'}, patches ${last.patches.join(',') || 'none'}${last.inFlight ? `, in flight ${last.inFlight}` : ''}`);
  },
};
