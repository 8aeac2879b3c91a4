import { deviceHistory, historyOfFile, ringHistory, rolloutChanges, rolloutHistory, type DeviceView, type RingPauseView, type RolloutView, type StreamHistoryStep } from '@hotpatch/replay';
import { deviceStream, ringStream, rolloutStream, type HotpatchEvent } from '@hotpatch/core';
import { CheckFailed, UsageError, parse, type CommandSpec } from '../args.js';
import { json, table } from '../format.js';
import { describeSource, eachStorePage, readSource, sourceFrom, type StoreSource } from '../store-source.js';
import { replayPoint } from './replay.js';
import { mustExist, timelineEvents, unhashedNote } from '../timeline-input.js';
import { rolloutLines } from '../rollout-text.js';
import { tenantLens } from '@hotpatch/store';
import { noTenant, ofTenant, TENANT_OPTION, TENANT_USAGE, tenantFlag } from '../tenant.js';

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
  {"position","event","before","after"}.

  ${TENANT_USAGE}`,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      device: { type: 'string' },
      rollout: { type: 'string' },
      ring: { type: 'string' },
      at: { type: 'string' },
      position: { type: 'string' },
      json: { type: 'boolean' },
      store: { type: 'string' },
      ...TENANT_OPTION,
    });
    const source = sourceFrom(positionals, values.store as string | undefined);
    const tenant = tenantFlag(values.tenant);
    const file = ofTenant(describeSource(source), tenant);
    const asked = (['device', 'rollout', 'ring'] as const).filter((k) => values[k] !== undefined);
    if (asked.length === 0) throw new UsageError('one of --device ID, --rollout ID or --ring NAME is required');
    if (asked.length > 1) throw new UsageError(`${asked.map((k) => `--${k}`).join(' and ')}: give one of them, not ${asked.length === 2 ? 'both' : 'several'}`);
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
    if (source.kind === 'jsonl' && tenant === undefined) {
      await mustExist(source.path);
      // A file without hashes: said first, as status and replay say it.
      steps = await historyOfFile[kind](source.path, id, until, { unhashed: () => io.err(unhashedNote(source.path)) });
    } else steps = of.inMemory(await readSource(source, { stream: of.stream(id), ...(tenant !== undefined ? { tenant } : {}) }), id, until);
    if (steps.length === 0 && ring !== undefined) {
      // A ring's stream holds its pauses: a ring of the fleet that was never paused has none, and that is an answer.
      const rings = await ringsOf(source, tenant);
      if (!rings.has(ring)) throw new CheckFailed(`no ring ${ring} in ${file}: its rings are ${[...rings].sort().join(', ') || 'none'}`);
      io.out(values.json ? json([]) : `ring ${ring}: open — never paused${until.kind === 'end' ? '' : ' by then'}`);
      return;
    }
    if (steps.length === 0 && tenant !== undefined && !(await holdsTenant(source, tenant))) throw new CheckFailed(noTenant(tenant, describeSource(source)));
    if (steps.length === 0) throw new CheckFailed(`${kind} ${id} has no events in ${file}${until.kind === 'end' ? '' : ' by then'}`);
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

/** The rings a log knows (a tenant's: of its events alone): those devices were enrolled into and those rollouts were planned through. */
async function ringsOf(source: StoreSource, tenant: string | undefined): Promise<Set<string>> {
  const rings = new Set<string>();
  const lens = tenantLens(tenant);
  const note = (events: readonly HotpatchEvent[]) => {
    for (const e of events) {
      if (!lens.mine(e.stream)) continue;
      if (e.type === 'DeviceEnrolled') rings.add((e.data as { ring: string }).ring);
      else if (e.type === 'RolloutPlanned') for (const r of (e.data as { rings: ReadonlyArray<{ name: string }> }).rings) rings.add(r.name);
    }
  };
  if (source.kind === 'jsonl') for await (const events of timelineEvents(source.path)) note(events);
  else await eachStorePage(source, note);
  return rings;
}

/** Whether a log holds any event of a tenant's. */
async function holdsTenant(source: StoreSource, tenant: string): Promise<boolean> {
  const lens = tenantLens(tenant);
  let found = false;
  const look = (events: readonly HotpatchEvent[]) => !(found = events.some((e) => lens.mine(e.stream)));
  if (source.kind === 'jsonl') {
    for await (const events of timelineEvents(source.path)) if (!look(events)) break;
  } else await eachStorePage(source, look);
  return found;
}
