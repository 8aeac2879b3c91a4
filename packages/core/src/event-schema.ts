/**
 * An event whole, as a schema: the envelope with its stream's kind, its type and that type's data. Built from the
 * envelope and each kind's data schemas (nothing restated), compiled once per type on first use.
 */
import { Type } from './typebox.js';
import type { TSchema } from 'typebox';
import { EnvelopeSchema } from './envelope.js';
import { compileSchema, type SchemaCheck } from './schema-check.js';
import { fastAccept, type Accept } from './fast-accept.js';
import { expecting } from './schema.js';
import { STREAM_KINDS, type StreamKind } from './streams.js';
import { TENANT_KINDS } from './stream-name.js';
import { TENANT_PREFIX_PATTERN } from './tenant.js';

/** The schema of an event of `type` in a stream of `kind`. */
export function eventSchemaOf(kind: StreamKind, type: string): TSchema {
  return Type.Object(
    {
      ...EnvelopeSchema.properties,
      stream: TENANT_KINDS.includes(kind.name)
        ? expecting(`"${kind.prefix}<id>" or "tenant/<tenant>/${kind.prefix}<id>"`, Type.String({ pattern: `^(${TENANT_PREFIX_PATTERN})?${kind.prefix}[\\s\\S]` }))
        : expecting(`"${kind.prefix}<id>"`, Type.String({ pattern: `^${kind.prefix}[\\s\\S]` })),
      type: Type.Literal(type),
      data: kind.data[type]!,
    },
    { additionalProperties: false },
  );
}

/** Any event of the log: one of its kinds' event types (the JSON Schema published as docs/schemas/event.schema.json). */
export const EventSchema = Type.Union(STREAM_KINDS.flatMap((kind) => kind.eventTypes.map((type) => eventSchemaOf(kind, type))));

const eventChecks = new Map<StreamKind, Map<string, SchemaCheck<unknown>>>();
const dataChecks = new Map<StreamKind, Map<string, SchemaCheck<unknown>>>();

// `schema` is a function of (kind, type), not a closure: a store looks a check up for every event it writes.
function memo(cache: Map<StreamKind, Map<string, SchemaCheck<unknown>>>, kind: StreamKind, type: unknown, schema: (kind: StreamKind, type: string) => TSchema) {
  if (typeof type !== 'string' || !Object.hasOwn(kind.data, type)) return undefined;
  let byType = cache.get(kind);
  if (byType === undefined) cache.set(kind, (byType = new Map()));
  let check = byType.get(type);
  if (check === undefined) byType.set(type, (check = compileSchema(schema(kind, type))));
  return check;
}

const dataSchemaOf = (kind: StreamKind, type: string): TSchema => kind.data[type]!;

/** The compiled check of a whole event of `type` in a stream of `kind`; undefined for a type the kind does not have. */
export const eventCheckOf = (kind: StreamKind, type: unknown): SchemaCheck<unknown> | undefined => memo(eventChecks, kind, type, eventSchemaOf);

/** The compiled check of the data of `type` in a stream of `kind`; undefined for a type the kind does not have. */
export const dataCheckOf = (kind: StreamKind, type: unknown): SchemaCheck<unknown> | undefined => memo(dataChecks, kind, type, dataSchemaOf);

const dataAccepts = new Map<StreamKind, Map<string, Accept>>();

/**
 * Whether data is valid for `type` in a stream of `kind`: dataCheckOf's answer, by the quick yes made from the schema
 * (fast-accept.ts) first and the compiled check for anything else. Undefined for a type the kind does not have. For
 * readers that only need yes or no (every line of a timeline); the compiled check names the problem.
 */
export function dataAcceptOf(kind: StreamKind, type: string): Accept | undefined {
  let byType = dataAccepts.get(kind);
  if (byType === undefined) {
    byType = new Map();
    for (const name of Object.keys(kind.data)) {
      const check = dataCheckOf(kind, name)!;
      const quick = fastAccept(check.schema);
      byType.set(name, (data) => quick(data) || check.check(data));
    }
    dataAccepts.set(kind, byType);
  }
  return byType.get(type);
}

/** The envelope alone (any type, any data): what is wrong with an event before its type is looked at. */
export const envelopeCheck = compileSchema(EnvelopeSchema);
