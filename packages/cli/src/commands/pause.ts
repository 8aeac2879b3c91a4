/**
 * `hotpatch pause` and `hotpatch resume`: an operator's pause of a rollout or a ring, written into the service's
 * store as the orchestrator's own `pause`/`resume`/`pauseRing`/`resumeRing` would write it. The service's
 * instances see it at their next sync. The rollout's or the ring's machine decides, so the service cannot lift the
 * tenant's pause from here either.
 */
import { isLowerUuid, lifecycleFor, ringStream, rolloutStream, TransitionRefusedError, type PauseParty, type RingState, type RolloutState } from '@hotpatch/core';
import { catchUpProjection, FleetProjection, restoreSavedProjection } from '@hotpatch/fleet';
import { scopeStore, WrongExpectedVersionError, type EventStore, type StreamStateRead } from '@hotpatch/store';
import { ofTenant, TENANT_OPTION, tenantFlag } from '../tenant.js';
import { CheckFailed, parse, UsageError, type CommandSpec, type Output } from '../args.js';
import { json } from '../format.js';
import { describeSource, openEventStore, parseStoreSource, STORE_PAGE } from '../store-source.js';

const SHARED = `
  --store <source>     the service's store (sqlite:path or postgres://…), written to
  --rollout ID         a release's rollout (e.g. HP-2026-02)
  --ring NAME          a ring, whatever the release: no rollout starts it or instructs its devices while it is
                       paused, out-of-band releases included, and its devices are not caught up
  --by service|tenant  who: a party lifts only its own pause; the service cannot lift the tenant's
  --id UUID            the event's id: the same call again (a retry) records nothing new
  --projection NAME    (with --ring) check that the ring exists from the projection the orchestrator saved
                       under NAME and the log after it, instead of folding the whole log
  --tenant T           the rollout or ring of tenant T's fleet (its streams tenant/T/…); without it, the default
                       tenant's (--by tenant is the party that pauses, whichever tenant's fleet it is)
  --json               machine-readable result`;

export const pauseCommand: CommandSpec = {
  name: 'pause',
  summary: 'pause a rollout, or a ring whatever the release, on behalf of the service or the tenant',
  usage: `hotpatch pause --store <source> (--rollout ID | --ring NAME) --by service|tenant --reason TEXT [--id UUID] [--tenant T] [--json]

  Records RolloutPaused (or RingPaused) in the store, now. Exits 1, writing nothing, when there is no such rollout
  or ring, or when its machine refuses (a completed or halted rollout cannot be paused).
${SHARED}`,
  run: (argv, io) => change('pause', argv, io),
};

export const resumeCommand: CommandSpec = {
  name: 'resume',
  summary: 'lift the service’s or the tenant’s pause of a rollout or a ring',
  usage: `hotpatch resume --store <source> (--rollout ID | --ring NAME) --by service|tenant [--id UUID] [--tenant T] [--json]

  Records RolloutResumed (or RingResumed) in the store, now: lifts that party's pause; the rollout or the ring
  carries on once nobody holds one. Exits 1, writing nothing, when that party holds no pause on it (the service
  cannot lift the tenant's pause).
${SHARED}`,
  run: (argv, io) => change('resume', argv, io),
};

async function change(action: 'pause' | 'resume', argv: string[], io: Output): Promise<void> {
  const { values, positionals } = parse(argv, {
    store: { type: 'string' },
    rollout: { type: 'string' },
    ring: { type: 'string' },
    by: { type: 'string' },
    reason: { type: 'string' },
    id: { type: 'string' },
    projection: { type: 'string' },
    json: { type: 'boolean' },
    ...TENANT_OPTION,
  });
  if (positionals.length) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  if (values.store === undefined) throw new UsageError('--store <source> is required');
  const rollout = values.rollout as string | undefined;
  const ring = values.ring as string | undefined;
  if (rollout === undefined && ring === undefined) throw new UsageError('one of --rollout ID or --ring NAME is required');
  if (rollout !== undefined && ring !== undefined) throw new UsageError('--rollout and --ring: give one of them, not both');
  const name = (rollout ?? ring)!;
  if (name === '') throw new UsageError(`--${rollout !== undefined ? 'rollout' : 'ring'}: expected a name`);
  const by = values.by as string | undefined;
  if (by !== 'service' && by !== 'tenant') throw new UsageError(`--by: expected service or tenant, got ${JSON.stringify(by)}`);
  const reason = values.reason as string | undefined;
  if (action === 'pause' && (reason === undefined || reason.trim() === '')) throw new UsageError('--reason TEXT is required: say why, for whoever reads the log');
  if (action === 'resume' && reason !== undefined) throw new UsageError('--reason applies to pause');
  const id = values.id as string | undefined;
  if (id !== undefined && !isLowerUuid(id)) throw new UsageError(`--id: expected a UUID in lower case, got ${JSON.stringify(id)}`);
  if (values.projection !== undefined && ring === undefined) throw new UsageError('--projection applies to --ring');

  const source = parseStoreSource(values.store as string);
  const tenant = tenantFlag(values.tenant);
  const where = ofTenant(describeSource(source), tenant);
  // A tenant's fleet is read and written through its view of the store: its names, its projection's name.
  const scoped = (store: EventStore) => (tenant === undefined ? store : scopeStore(store, tenant));
  const stream = rollout !== undefined ? rolloutStream(rollout) : ringStream(ring!);
  const what = rollout !== undefined ? `rollout ${rollout}` : `ring ${ring}`;
  const type = rollout !== undefined ? (action === 'pause' ? 'RolloutPaused' : 'RolloutResumed') : action === 'pause' ? 'RingPaused' : 'RingResumed';
  const data = action === 'pause' ? { by: by as PauseParty, reason: reason! } : { by: by as PauseParty };
  const holdersOf = (state: RolloutState | RingState): string[] => ('holds' in state.context ? state.context.holds.map((h) => h.by) : [...state.context.pausedBy]);
  /** Why the machine refuses the change, said for a person. */
  const refusal = (head: StreamStateRead, detail: string) => {
    const holders = holdersOf(head.state as RolloutState | RingState);
    if (action === 'resume' && head.state.value !== 'paused') return new CheckFailed(`${what} is not paused (it is ${head.version === 0 ? 'open' : head.state.value}); nothing written`);
    if (action === 'resume' && !holders.includes(by)) {
      return new CheckFailed(`${what} is paused by ${holders.join(' and ')}: the ${by} holds no pause on it to lift${by === 'service' ? ' (the service cannot lift the tenant’s pause)' : ''}; nothing written`);
    }
    return new CheckFailed(`${what}: ${detail}; nothing written`);
  };

  // Everything that can refuse is asked of the store opened read-only: a command that fails writes nothing (not a
  // table into someone else's database, not a snapshot refreshed on the way).
  let head: StreamStateRead;
  const opened = await openEventStore(source, { readonly: true });
  const reader = scoped(opened);
  try {
    if (ring !== undefined) await ringMustExist(reader, ring, values.projection as string | undefined, where, (text) => io.err(text));
    head = await reader.readState(stream);
    if (rollout !== undefined && head.version === 0) throw new CheckFailed(`no rollout ${rollout} in ${where}`);
    // With an id, the store judges (a retry of it is recorded once, whatever the stream's state now).
    if (id === undefined && lifecycleFor(stream).step(head.state, { type, data } as { readonly type: string }) === undefined) throw refusal(head, `${type} refused in state '${head.state.value}'`);
  } finally {
    await opened.close();
  }

  const writer = await openEventStore(source);
  const store = scoped(writer);
  try {
    let result;
    try {
      result = await store.appendToStream(stream, [{ ...(id !== undefined ? { id } : {}), type, time: new Date().toISOString(), data, meta: { source: 'hotpatch-cli' } }], {
        // With an id, a retry is recognised whatever the stream's version now is.
        expectedVersion: id !== undefined ? 'any' : head.version === 0 ? 'no_stream' : head.version,
      });
    } catch (error) {
      if (error instanceof TransitionRefusedError) throw refusal(head, error.message);
      if (error instanceof WrongExpectedVersionError) throw new CheckFailed(`${stream} changed while this ran (another writer): nothing written; run it again`);
      throw error;
    }
    const after = (await store.readState(stream)).state as RolloutState | RingState;
    const holders = holdersOf(after);
    if (values.json) {
      io.out(json({ [rollout !== undefined ? 'rollout' : 'ring']: name, event: type, by, written: result.written, position: result.positions[0] ?? null, state: after.value, pausedBy: holders }));
      return;
    }
    const now = after.value === 'paused' ? `paused by ${holders.join(' and ')}` : after.value;
    io.out(`${result.written ? `${type} recorded at position ${result.positions[0]}` : `${type} with this id was recorded before: nothing new written`} — ${what} is ${now}`);
    if (after.value === 'paused') io.out(rollout !== undefined ? 'It instructs nothing new until every party that paused it resumes it.' : 'It receives nothing new, whatever the release, until every party that paused it resumes it.');
  } finally {
    await writer.close();
  }
}

/** A ring some device was enrolled into or some rollout planned: a typo must not pause a ring that does not exist. */
async function ringMustExist(store: EventStore, ring: string, projectionName: string | undefined, where: string, say: (text: string) => void): Promise<void> {
  const projection = new FleetProjection();
  if (projectionName !== undefined) {
    const found = await restoreSavedProjection(projection, store, projectionName);
    if (found !== 'restored') say(`${found === 'missing' ? 'no projection saved' : 'another build’s projection'} under ${JSON.stringify(projectionName)}: folding the whole log`);
  }
  await catchUpProjection(projection, store, STORE_PAGE);
  const rings = new Set(projection.ringMembers.keys());
  for (const r of projection.rollouts.values()) for (const p of r.plan?.rings ?? []) rings.add(p.name);
  if (!rings.has(ring)) throw new CheckFailed(`no ring ${ring} in ${where}: its rings are ${[...rings].sort().join(', ') || 'none yet'}`);
}
