/**
 * A quick yes for a value that has a schema's shape, made from the schema itself (no second statement of its rules):
 * what the compiled check costs most on a valid value (an `in` test per required field, a pattern test per key for
 * `additionalProperties: false`) is done here with plain reads and a set of names. It only ever says yes where the
 * compiled check says yes; anything it does not handle (a keyword it does not know, a refinement) it answers no, and
 * the caller asks the compiled check, which also names the problem.
 */
import type { TSchema } from 'typebox';
import { codePoints } from './stream-id.js';

type Accept = (value: unknown) => boolean;

const never: Accept = () => false;
const always: Accept = () => true;

/** The keywords handled here; a schema with any other (own, enumerable or not) is left to the compiled check. */
const KNOWN = new Set(['type', 'properties', 'required', 'additionalProperties', 'patternProperties', 'const', 'enum', 'minLength', 'maxLength', 'pattern', 'items', 'description', 'title', '~kind', '~optional', '~expected']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function string(schema: Record<string, unknown>): Accept {
  const { minLength, maxLength, pattern } = schema;
  if ((minLength !== undefined && typeof minLength !== 'number') || (maxLength !== undefined && typeof maxLength !== 'number') || (pattern !== undefined && typeof pattern !== 'string')) return never;
  const min = minLength ?? 0;
  const max = maxLength ?? Infinity;
  const regex = pattern === undefined ? undefined : new RegExp(pattern, 'u');
  // A code point is one or two UTF-16 units: the length alone decides, but near the bounds.
  return (value) =>
    typeof value === 'string' &&
    (value.length >= min * 2 || (value.length >= min && codePoints(value) >= min)) &&
    (value.length <= max || (value.length <= max * 2 && codePoints(value) <= max)) &&
    (regex === undefined || regex.test(value));
}

function object(schema: Record<string, unknown>): Accept {
  const { properties, required, additionalProperties, patternProperties } = schema;
  if (properties === undefined && patternProperties !== undefined) {
    // A record whose values may be anything (`Type.Record(Type.String(), Type.Unknown())`): any object.
    if (additionalProperties !== undefined || !isObject(patternProperties)) return never;
    return Object.values(patternProperties).every((s) => fastAccept(s as TSchema) === always) ? isObject : never;
  }
  if (!isObject(properties) || patternProperties !== undefined || (required !== undefined && !Array.isArray(required))) return never;
  if (additionalProperties !== undefined && additionalProperties !== false) return never;
  const requiredKeys = new Set((required as unknown[] | undefined) ?? []);
  const fields: { key: string; accept: Accept; required: boolean; present: boolean }[] = [];
  for (const [key, sub] of Object.entries(properties)) {
    const accept = fastAccept(sub as TSchema);
    const isRequired = requiredKeys.delete(key);
    // A required field is one the value has: where its schema takes undefined too, reading it cannot tell.
    fields.push({ key, accept, required: isRequired, present: isRequired && accept(undefined) });
  }
  if (requiredKeys.size > 0) return never;
  const allowed = additionalProperties === false ? new Set(fields.map((f) => f.key)) : undefined;
  return (value) => {
    if (!isObject(value)) return false;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.present && !(f.key in value)) return false;
      const field = value[f.key];
      // An optional field may be absent or undefined, as the compiled check has it.
      if (!(f.required ? f.accept(field) : field === undefined || f.accept(field))) return false;
    }
    if (allowed !== undefined) {
      // Own names, enumerable or not, as the compiled check lists them.
      const names = Object.getOwnPropertyNames(value);
      for (let i = 0; i < names.length; i++) if (!allowed.has(names[i]!)) return false;
    }
    return true;
  };
}

/** The quick yes for `schema` (see the module's comment): true only where the compiled check accepts the value. */
export function fastAccept(schema: TSchema): Accept {
  const s = schema as unknown as Record<string, unknown>;
  if (!isObject(s) || Object.getOwnPropertySymbols(s).length > 0 || Object.getOwnPropertyNames(s).some((k) => !KNOWN.has(k))) return never;
  if ('const' in s) {
    const value = s.const;
    return (s.type === undefined || s.type === typeof value) && (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') && Object.keys(s).every((k) => k === 'type' || k === 'const' || k === 'description') ? (v) => v === value : never;
  }
  if ('enum' in s) {
    const values = s.enum;
    if (s.type !== undefined || !Array.isArray(values) || !values.every((v) => typeof v === 'string')) return never;
    return (v) => typeof v === 'string' && (values as string[]).includes(v);
  }
  switch (s.type) {
    case undefined:
      // No keyword but annotations: anything (`Type.Unknown()`).
      return Object.keys(s).every((k) => k === 'description' || k === 'title') ? always : never;
    case 'boolean':
      return Object.keys(s).every((k) => k === 'type' || k === 'description') ? (v) => typeof v === 'boolean' : never;
    case 'string':
      return string(s);
    case 'object':
      return object(s);
    case 'array': {
      if (Object.keys(s).some((k) => k !== 'type' && k !== 'items' && k !== 'description') || !isObject(s.items)) return never;
      const item = fastAccept(s.items as TSchema);
      // As the compiled check reads an array (`every`, which passes over holes).
      return (v) => Array.isArray(v) && v.every((x) => item(x));
    }
    default:
      return never;
  }
}
