/** The envelope every event of the log travels in, whatever its stream's kind (one JSONL line): its schema and type. */
import { Type } from './typebox.js';
import { expecting, IsoTime, type Shape } from './schema.js';
import { STREAM_KIND_NAMES, TENANT_KINDS } from './stream-name.js';
import { TENANT_PREFIX_PATTERN } from './tenant.js';

// Lower case only: stores compare ids as text, so the same id in two cases would be two events.
export const LOWER_UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const EventIdSchema = expecting('a lower-case UUID', Type.String({ pattern: LOWER_UUID_PATTERN }));

/** How deep an event's metadata may nest: enough for any real use, and far from what overflows a reader's stack. */
export const MAX_META_DEPTH = 32;

/** Whether `value` nests objects or arrays more than `depth` levels deep (it stops looking there). */
export function nestedDeeperThan(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth === 0) return true;
  for (const key in value) if (nestedDeeperThan((value as Record<string, unknown>)[key], depth - 1)) return true;
  return false;
}

/**
 * Where a value to be written (an event's data or meta) could not be written as JSON, or not read back as it was:
 * a BigInt (JSON.stringify throws), nesting deeper than `depth` levels (a circular value is infinitely deep), and
 * where `checked` (a value checked against a schema: an event's data) an object with a toJSON method (JSON writes what
 * it returns, not the value checked). Its path within the value (`a.b[2]`) and why; undefined when it can be written.
 */
export function unwritableJson(value: unknown, depth: number, path = '', checked = false): { readonly path: string; readonly problem: string } | undefined {
  const found = unwritable(value, depth, checked);
  if (found === undefined) return undefined;
  // The keys were noted from the problem up: the path is written from the top down.
  let at = path;
  for (let i = found.keys.length - 1; i >= 0; i--) {
    const key = found.keys[i]!;
    at = typeof key === 'number' ? `${at}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? (at === '' ? key : `${at}.${key}`) : `${at}[${JSON.stringify(key)}]`;
  }
  return { path: at, problem: found.problem };
}

/** The walk of unwritableJson: nothing allocated unless it finds a problem (every event written is walked). */
function unwritable(value: unknown, depth: number, checked: boolean): { readonly keys: (string | number)[]; readonly problem: string } | undefined {
  if (typeof value === 'bigint') return { keys: [], problem: `a BigInt (${value}n) cannot be written as JSON: send a number or a string` };
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth === 0) return { keys: [], problem: `nested deeper than ${MAX_META_DEPTH} levels (or circular)` };
  if (checked && typeof (value as { toJSON?: unknown }).toJSON === 'function') return { keys: [], problem: 'has a toJSON method: JSON would write what it returns, not the value checked; send the value as JSON has it' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unwritable(value[i], depth - 1, checked);
      if (found !== undefined) return (found.keys.push(i), found);
    }
    return undefined;
  }
  for (const key in value) {
    const found = unwritable((value as Record<string, unknown>)[key], depth - 1, checked);
    if (found !== undefined) return (found.keys.push(key), found);
  }
  return undefined;
}

/** A version or a position: counted from 1. */
const counter = (description: string) => expecting('an integer ≥ 1', Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description }));
export const HASH_PATTERN = '^[0-9a-f]{64}$';
export const HashSchema = expecting('64 lowercase hex digits', Type.String({ pattern: HASH_PATTERN, description: 'Added by a store: SHA-256 chained to the previous event of the stream.' }));

export const EnvelopeSchema = Type.Object(
  {
    id: EventIdSchema,
    // A named tenant's streams carry its prefix (`tenant/<tenant>/`, the tenant rule in tenant.ts).
    stream: expecting(
      '"<kind>/<id>" or "tenant/<tenant>/<kind>/<id>"',
      Type.String({ pattern: `^((${TENANT_PREFIX_PATTERN})?(${TENANT_KINDS.join('|')})|${STREAM_KIND_NAMES.filter((k) => !TENANT_KINDS.includes(k)).join('|')})/[\\s\\S]` }),
    ),
    version: counter('Position in the stream: 1-based, contiguous.'),
    type: Type.String(),
    time: IsoTime,
    data: Type.Unknown(),
    meta: Type.Optional(
      Type.Refine(
        Type.Record(Type.String(), Type.Unknown(), { description: `Who recorded it, which command, the agent's report; nested at most ${MAX_META_DEPTH} levels.` }),
        (meta) => !nestedDeeperThan(meta, MAX_META_DEPTH),
        () => `nested deeper than ${MAX_META_DEPTH} levels`,
      ),
    ),
    position: Type.Optional(counter('Added by a store: global, 1-based, in commit order.')),
    hash: Type.Optional(HashSchema),
  },
  { additionalProperties: false },
);

/** An event in its envelope, of one type with its data. */
export type EventEnvelope<TType extends string = string, TData = unknown> = Omit<Shape<typeof EnvelopeSchema>, 'type' | 'data'> & {
  readonly type: TType;
  readonly data: TData;
};

/** The part of an event that a lifecycle decides on, for each type of a kind's events: its type and data. */
export type EventBodyOf<Data> = { [T in keyof Data & string]: { readonly type: T; readonly data: Data[T] } }[keyof Data & string];

/** A kind's events in their envelope, one member per type. */
export type EventOf<Data> = { [T in keyof Data & string]: EventEnvelope<T, Data[T]> }[keyof Data & string];
