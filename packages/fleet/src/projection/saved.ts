/** A fleet projection saved as text (`EventStore.saveProjection`) and read back. */
import { toStreamName } from '@hotpatch/core';
import { machineFingerprintFor } from '@hotpatch/store';
import { healedKey, type HealedRecord } from './healed.js';
import { emptyProjectionState, NO_APPLY_FAILURES, type DeviceRecord, type ProjectionState, type ReleaseRecord, type RingPauseRecord, type RolloutRecord } from './records.js';

/** The serialised form's version: bump it whenever the records, what `apply` derives or the layout change. */
const PROJECTION_FORMAT = 9;
/** The machines a saved projection was folded with (their fingerprints). */
const projectionMachines = () => (['device', 'rollout', 'ring'] as const).map((kind) => machineFingerprintFor(toStreamName(kind, 'x'))).join(' ');

type Entries<M> = M extends ReadonlyMap<infer K, infer V> ? Array<[K, V]> : never;
interface SavedHeader {
  readonly format: number;
  readonly machines: string;
  readonly position: number;
  readonly latestTime: string;
}
type SavedDevice = Omit<DeviceRecord, 'outcomes' | 'applyFailures'> & { outcomes: Entries<DeviceRecord['outcomes']>; applyFailures: Entries<DeviceRecord['applyFailures']> };
type SavedRollout = Omit<RolloutRecord, 'instructed' | 'outcomes' | 'pending'>;
type SavedRelease = Omit<ReleaseRecord, 'protectedSince'>;
/**
 * One line of a saved projection (after the header line). A rollout's, a release's and a ring's device-sized
 * collections follow their record in chunks, so that no line grows with the fleet.
 */
type SavedLine =
  | ['device', SavedDevice]
  | ['rollout', SavedRollout]
  | ['instructed', string, Entries<RolloutRecord['instructed']>]
  | ['outcomes', string, Entries<RolloutRecord['outcomes']>]
  | ['pending', string, string[]]
  | ['release', SavedRelease]
  | ['protectedSince', string, Entries<ReleaseRecord['protectedSince']>]
  | ['ring', string, string[]]
  | ['ringPause', RingPauseRecord]
  | ['healed', HealedRecord[]];
/** Entries per chunk line. */
const CHUNK = 10_000;
/** A part is closed once it holds this many characters (lines are never split across parts). */
const DEFAULT_PART_CHARS = 16 * 2 ** 20;

const SAVED_KINDS: ReadonlySet<unknown> = new Set(['device', 'rollout', 'instructed', 'outcomes', 'pending', 'release', 'protectedSince', 'ring', 'ringPause', 'healed']);

function* chunks<T>(items: Iterable<T>): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length === CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * A projection's state as text, in parts, to be saved with the position it stands for (`EventStore.saveProjection`)
 * and read back with `parseProjection`. Parts of about `partChars` characters (16 Mi by default): one JavaScript string
 * holds at most about 537 million characters, which a fleet of 150,000 to 350,000 devices a year in passes. Each
 * part is whole lines of JSON: a header, stamped with the format and the machines the projection was folded
 * with (a projection saved by another version is not restored, but rebuilt from the log), then a line per
 * record and per chunk of a record's device-sized collections.
 */
export function serializeProjection(state: ProjectionState, partChars = DEFAULT_PART_CHARS): string[] {
  const parts: string[] = [];
  let lines: string[] = [];
  let size = 0;
  const add = (line: string) => {
    lines.push(line);
    size += line.length + 1;
    if (size >= partChars) {
      parts.push(lines.join('\n'));
      lines = [];
      size = 0;
    }
  };
  const header: SavedHeader = { format: PROJECTION_FORMAT, machines: projectionMachines(), position: state.position, latestTime: state.latestTime };
  add(JSON.stringify(header));
  const line = (l: SavedLine) => add(JSON.stringify(l));
  for (const d of state.devices.values()) line(['device', { ...d, outcomes: [...d.outcomes], applyFailures: [...d.applyFailures] }]);
  for (const r of state.rollouts.values()) {
    const { instructed, outcomes, pending, ...rest } = r;
    line(['rollout', rest]);
    for (const c of chunks(instructed)) line(['instructed', r.id, c]);
    for (const c of chunks(outcomes)) line(['outcomes', r.id, c]);
    for (const c of chunks(pending)) line(['pending', r.id, c]);
  }
  for (const r of state.releases.values()) {
    const { protectedSince, ...rest } = r;
    line(['release', rest]);
    for (const c of chunks(protectedSince)) line(['protectedSince', r.id, c]);
  }
  for (const [ring, members] of state.ringMembers) {
    let any = false;
    for (const c of chunks(members)) {
      line(['ring', ring, c]);
      any = true;
    }
    if (!any) line(['ring', ring, []]);
  }
  for (const r of state.ringPauses.values()) line(['ringPause', r]);
  for (const c of chunks(state.healed.values())) line(['healed', c]);
  if (lines.length > 0) parts.push(lines.join('\n'));
  return parts;
}

/**
 * The state a serialised projection holds, given as `serializeProjection` gave it (its parts, or one string);
 * undefined when it is not a projection this build can trust (another format or other machines, or not one at all).
 */
export function parseProjection(data: string | readonly string[]): ProjectionState | undefined {
  const parts = typeof data === 'string' ? [data] : data;
  let header: SavedHeader;
  const lines: SavedLine[] = [];
  const rollouts = new Set<string>();
  const releases = new Set<string>();
  try {
    let first = true;
    for (const part of parts) {
      for (const text of part.split('\n')) {
        if (first) {
          header = JSON.parse(text) as SavedHeader;
          if (header?.format !== PROJECTION_FORMAT || header.machines !== projectionMachines() || !Number.isSafeInteger(header.position) || typeof header.latestTime !== 'string') return undefined;
          first = false;
          continue;
        }
        const l = JSON.parse(text) as SavedLine;
        if (!Array.isArray(l) || !SAVED_KINDS.has(l[0])) return undefined;
        // A chunk belongs to a record given before it.
        if (l[0] === 'rollout') rollouts.add(l[1].id);
        else if (l[0] === 'release') releases.add(l[1].id);
        else if ((l[0] === 'instructed' || l[0] === 'outcomes' || l[0] === 'pending') && !rollouts.has(l[1])) return undefined;
        else if (l[0] === 'protectedSince' && !releases.has(l[1])) return undefined;
        lines.push(l);
      }
    }
    if (first) return undefined;
  } catch {
    return undefined;
  }
  const state = emptyProjectionState();
  state.position = header!.position;
  state.latestTime = header!.latestTime;
  for (const l of lines) {
    switch (l[0]) {
      case 'device': {
        const d = l[1];
        state.devices.set(d.id, { ...d, outcomes: new Map(d.outcomes), applyFailures: d.applyFailures.length ? new Map(d.applyFailures) : NO_APPLY_FAILURES });
        break;
      }
      case 'rollout':
        state.rollouts.set(l[1].id, { ...l[1], instructed: new Map(), outcomes: new Map(), pending: new Set() });
        break;
      case 'instructed':
        for (const [k, v] of l[2]) state.rollouts.get(l[1])!.instructed.set(k, v);
        break;
      case 'outcomes':
        for (const [k, v] of l[2]) state.rollouts.get(l[1])!.outcomes.set(k, v);
        break;
      case 'pending':
        for (const k of l[2]) state.rollouts.get(l[1])!.pending.add(k);
        break;
      case 'release': {
        const release: ReleaseRecord = { ...l[1], protectedSince: new Map() };
        state.releases.set(release.id, release);
        if (release.cumulativeUpdate !== undefined && !state.cumulativeUpdates.has(release.cumulativeUpdate)) state.cumulativeUpdates.set(release.cumulativeUpdate, release.id);
        break;
      }
      case 'protectedSince':
        for (const [k, v] of l[2]) state.releases.get(l[1])!.protectedSince.set(k, v);
        break;
      case 'ringPause':
        state.ringPauses.set(l[1].ring, l[1]);
        break;
      case 'healed':
        for (const h of l[1]) state.healed.set(healedKey(h.rollout, h.device), h);
        break;
      case 'ring': {
        const members = state.ringMembers.get(l[1]) ?? new Set<string>();
        state.ringMembers.set(l[1], members);
        for (const k of l[2]) members.add(k);
        break;
      }
    }
  }
  return state;
}

