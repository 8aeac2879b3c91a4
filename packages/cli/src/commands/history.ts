import { deviceHistory, historyOfFile, ringHistory, rolloutChanges, rolloutHistory, type DeviceView, type RingPauseView, type RolloutView, type StreamHistoryStep } from '@hotpatch/replay';
import { deviceStream, ringStream, rolloutStream } from '@hotpatch/core';
import { CheckFailed, UsageError, parse, type CommandSpec } from '../args.js';
import { json, table } from '../format.js';
import { describeSource, readSource, sourceFrom } from '../store-source.js';
import { replayPoint } from './replay.js';
import { mustExist } from '../timeline-input.js';
import { rolloutLines } from '../rollout-text.js';

function summarise(data: unknown): string {
  if (typeof data !== 'object' || data === null) return '';
  return Object.entries(data)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
    .join(' ');
}

export const historyCommand: CommandSpec = {
  name: 'history',
  summary: "one device's, rollout's or ring's events, each with the state before and after",
  usage: `hotpatch history <file.jsonl> | --store <source>  --device ID | --rollout ID | --ring NAME  [--at TIME | --position N] [--json]

  Lists what happened to one device: each event with the state before and after it. With --rollout (a release's
  rollout, e.g. HP-2026-02): each of its events with the rollout's state before and after and what the event
  changed (ring counters against the budget, gates passed, pauses, and why it halted), then its rings and halt as
  status prints them (a ring it never started has no size here: see status). With --ring (a ring's
  pauses, whatever the release): who paused and resumed it, when and why. --json prints an array of
  {"position","event","before","after"}.`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      device: { type: 'string' },
      rollout: { type: 'string' },
      ring: { type: 'string' },
      at: { type: 'string' },
      position: { type: 'string' },
      json: { type: 'boolean' },
      store: { type: 'string' },
    });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const file = describeSource(source);
    if ([values.device, values.rollout, values.ring].filter((v) => v !== undefined).length !== 1) throw new UsageError('one of --device ID, --rollout ID or --ring NAME is required');
    const until = replayPoint(values.at as string | undefined, values.position as string | undefined);
    const rollout = values.rollout as string | undefined;
    const ring = values.ring as string | undefined;
    const id = (rollout ?? ring ?? values.device) as string;
    // From a store, only the stream asked about is read (by its index); a file is folded as it is read, only that
    // stream kept.
    const kind = rollout !== undefined ? 'rollout' : ring !== undefined ? 'ring' : 'device';
    const of = {
      rollout: { stream: rolloutStream, inMemory: rolloutHistory },
      ring: { stream: ringStream, inMemory: ringHistory },
      device: { stream: deviceStream, inMemory: deviceHistory },
    }[kind];
    let steps: Array<StreamHistoryStep<{ readonly state: string }>>;
    if (source.kind === 'jsonl') {
      await mustExist(source.path);
      steps = await historyOfFile[kind](source.path, id, until);
    } else steps = of.inMemory(await readSource(source, { stream: of.stream(id) }), id, until);
    if (steps.length === 0) throw new CheckFailed(`${kind} ${id} has no events in ${file}${ring !== undefined ? ' (a ring never paused has none)' : ''}`);
    if (values.json) {
      io.out(json(steps));
      return;
    }
    // A rollout's step also says what the event changed: its counters, gates, pauses, the halt and its reason.
    const changed = (s: (typeof steps)[number]) => (rollout !== undefined ? [rolloutChanges(s.before as RolloutView | null, s.after as RolloutView).join('; ')] : []);
    io.out(
      table(
        ['position', 'time', 'event', 'state before → after', ...(rollout !== undefined ? ['changed'] : []), 'data'],
        steps.map((s) => [
          String(s.position),
          s.event.time,
          s.event.type,
          // A ring with no events is open (never paused); a device or rollout with none does not exist yet.
          `${s.before?.state ?? (ring !== undefined ? 'open' : '(none)')} → ${s.after.state}`,
          ...changed(s),
          s.event.type === 'RolloutPlanned' ? '' : summarise(s.event.data),
        ]),
      ),
    );
    if (rollout !== undefined) {
      const end = steps[steps.length - 1]!.after as RolloutView;
      io.out(`\nrollout ${rollout}${end.release !== null && end.release !== rollout ? ` (release ${end.release})` : ''}: ${end.state}${end.haltReason ? ` — ${end.haltReason}` : ''}${end.pausedBy.length ? ` — paused by ${end.pausedBy.join(' and ')}` : ''}`);
      // The same table and halt as status prints (a ring not started has no size here: its rollout never counted it).
      for (const line of rolloutLines(end, '  ')) io.out(line);
      return;
    }
    if (ring !== undefined) {
      const end = steps[steps.length - 1]!.after as RingPauseView;
      io.out(`\nring ${ring}: ${end.state}${end.holds.length ? ` — ${end.holds.map((h) => `by ${h.by}${h.reason ? ` (${h.reason})` : ''}`).join(' and ')}` : ''}`);
      return;
    }
    const last = steps[steps.length - 1]!.after as DeviceView;
    io.out(`\n${id}: ${last.state} on ${last.baseline ?? '-'}, patches ${last.patches.join(',') || 'none'}${last.inFlight ? `, in flight ${last.inFlight}` : ''}`);
  },
};
