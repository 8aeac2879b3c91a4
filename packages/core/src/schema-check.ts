/**
 * A schema compiled to a check (TypeBox's JIT), and the first thing wrong with a value said in one line naming its
 * path (`rings[0].gate.maxFailureRate: expected a number from 0 to 1, got number 5`).
 */
import { Compile, Type } from './typebox.js';
import type { Static, TSchema } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { describe, type Shape } from './schema.js';

/** What is wrong with a value: where (a path like `rings[0].name`, '' for the value itself) and why. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

export interface SchemaCheck<T> {
  readonly schema: TSchema;
  /** Whether the value has the shape (the compiled check: no allocation when it has). */
  check(value: unknown): value is T;
  /** The first thing wrong with the value, or undefined when it has the shape. */
  problem(value: unknown): SchemaProblem | undefined;
}

/** The check is compiled when first used: a process pays for the checks it runs, not for every schema it loads. */
export function compileSchema<S extends TSchema>(schema: S): SchemaCheck<Shape<S>> {
  let compiled: ReturnType<typeof Compile<TSchema>> | undefined;
  const validator = () => (compiled ??= Compile(schema as TSchema));
  const tagged = taggedProblem(schema);
  return {
    schema,
    check: (value: unknown): value is Shape<S> => validator().Check(value),
    problem: (value) => (validator().Check(value) ? undefined : (tagged?.(value) ?? explain(schema, value, validator().Errors(value)))),
  };
}

/**
 * For a union of objects told apart by one field holding a constant (an agent report's `kind`), the problem of an
 * object by that field: an unknown one is told the ones there are, a known one its own member's problem (where the
 * compiled check's first error is the first member's: `expected "applied"`). Undefined for any other schema.
 */
function taggedProblem(schema: TSchema): ((value: unknown) => SchemaProblem | undefined) | undefined {
  const anyOf = (schema as { anyOf?: unknown }).anyOf;
  if (!Array.isArray(anyOf) || anyOf.length < 2) return undefined;
  const propertiesOf = (member: unknown) => (member as { properties?: Record<string, { const?: unknown }> }).properties;
  for (const tag of Object.keys(propertiesOf(anyOf[0]) ?? {})) {
    const members = new Map<string, SchemaCheck<unknown>>();
    for (const member of anyOf as TSchema[]) {
      const name = propertiesOf(member)?.[tag]?.const;
      if (typeof name !== 'string' || members.has(name)) break;
      members.set(name, compileSchema(member));
    }
    if (members.size !== anyOf.length) continue;
    const names = [...members.keys()].map((n) => JSON.stringify(n)).join(', ');
    return (value) => {
      // Not an object: the compiled check's own words.
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const name = (value as Record<string, unknown>)[tag];
      const member = typeof name === 'string' && Object.hasOwn(value, tag) ? members.get(name) : undefined;
      return member === undefined ? { path: tag, message: `expected one of ${names}, got ${describe(name)}` } : member.problem(value);
    };
  }
  return undefined;
}

/**
 * A schema with a rule JSON Schema cannot say (a name used once, a reference to another field), checked by the
 * compiled check after the shape; its problem's path is inside the value (`[1].name`). Not in the JSON Schema.
 */
export function refine<S extends TSchema>(schema: S, rule: (value: Static<S>) => SchemaProblem | undefined) {
  const refined = Type.Refine(schema, (value) => rule(value) === undefined, (value) => rule(value)?.message ?? '');
  return Object.defineProperty(refined, '~rule', { value: rule, enumerable: false });
}

/** A path in the JavaScript way: `rings[0].gate`, `["odd key"]`. */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A path inside the value at `base`: `data` + `rings[0]` → `data.rings[0]`. */
export const pathWithin = (base: string, path: string): string => (path === '' ? base : base === '' ? path : path.startsWith('[') ? base + path : `${base}.${path}`);

/** The keys of a JSON pointer (`/rings/0/name`), unescaped. */
const pointerKeys = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));

/** The schema a schemaPath (`#/properties/rings/items`) points at. */
function schemaAt(root: TSchema, schemaPath: string): Record<string, unknown> {
  let node = root as Record<string, unknown>;
  for (const key of pointerKeys(schemaPath.replace(/^#/, ''))) node = (node[key] ?? {}) as Record<string, unknown>;
  return node;
}

/** A value's path and the value at a JSON pointer in it. */
function valueAt(root: unknown, pointer: string): { path: string; value: unknown } {
  let path = '';
  let value = root;
  for (const key of pointerKeys(pointer)) {
    const index = Array.isArray(value) && /^\d+$/.test(key) ? Number(key) : undefined;
    path = joinPath(path, index ?? key);
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return { path, value };
}

/** An object's field names as a message lists them: a document's `$schema` (a pointer for editors) is not one. */
const fieldNames = (properties: unknown) => Object.keys((properties as object | undefined) ?? {}).filter((k) => !k.startsWith('$'));
const list = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

/** What a schema expects, as the noun phrase of a message. */
export function expected(of: TSchema): string {
  const schema = of as Record<string, unknown>;
  const named = schema['~expected'];
  if (typeof named === 'string') return named;
  if (Array.isArray(schema.enum)) return `one of ${list(schema.enum)}`;
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).map(expected).join(' or ');
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  const range = min !== undefined && max !== undefined && max !== Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min !== undefined ? ` ≥ ${min}` : '';
  const above = schema.exclusiveMinimum !== undefined ? ` > ${String(schema.exclusiveMinimum)}` : '';
  switch (schema.type) {
    case 'boolean':
      return 'true or false';
    case 'integer':
      return `a whole number${range}${above}`;
    case 'number':
      return `a number${range}${above}`;
    case 'string':
      if (typeof schema.pattern === 'string') return `a string matching ${schema.pattern}${atMost(schema.maxLength, 'character')}`;
      return (schema.minLength === 1 ? 'a non-empty string' : 'a string') + atMost(schema.maxLength, 'character');
    case 'array': {
      const items = schema.items as TSchema | undefined;
      const noun = (schema.minItems === 1 ? 'a non-empty array' : 'an array') + atMost(schema.maxItems, 'item');
      return items === undefined ? noun : `${noun} of ${plural(expected(items))}`;
    }
    case 'object': {
      const keys = fieldNames(schema.properties);
      return keys.length === 0 ? 'an object' : `an object {${keys.join(', ')}}`;
    }
    default:
      return 'a value';
  }
}

/** ` of at most 200 characters`, or nothing when there is no bound. */
const atMost = (bound: unknown, unit: string) => (typeof bound === 'number' ? ` of at most ${bound} ${unit}${bound === 1 ? '' : 's'}` : '');

const HEADS = ['non-empty string', 'string', 'object', 'whole number', 'number', 'lower-case UUID'];
/** "a non-empty string" → "non-empty strings", for an array's items. */
function plural(noun: string): string {
  const rest = noun.replace(/^an? /, '');
  const head = HEADS.find((h) => rest.startsWith(h));
  return head === undefined || rest === noun ? `items each ${noun}` : `${head}s${rest.slice(head.length)}`;
}

/** Where an error is, as keys: a missing field's own place, not its object's. */
const placeOf = (e: TLocalizedValidationError): string[] =>
  e.keyword === 'required' ? [...pointerKeys(e.instancePath), e.params.requiredProperties[0]!] : pointerKeys(e.instancePath);

/** A place's order in the schema: each key's rank among its object's properties (as written), or an item's index. */
function rankOf(schema: TSchema, keys: readonly string[]): number[] {
  let node = schema as Record<string, unknown>;
  return keys.map((key) => {
    const properties = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (properties !== undefined && Object.hasOwn(properties, key)) {
      node = properties[key]!;
      return Object.keys(properties).indexOf(key);
    }
    node = (node.items as Record<string, unknown> | undefined) ?? {};
    return /^\d+$/.test(key) ? Number(key) : Number.MAX_SAFE_INTEGER;
  });
}

function before(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The error to report of those TypeBox found: the first in the order the schema lists its fields (as one reads the
 * value), not a union's branches (the union names the place once), not the `false` schema behind
 * additionalProperties (its own error lists the keys), and an unknown key only when nothing else is wrong.
 */
function firstError(schema: TSchema, errors: readonly TLocalizedValidationError[]): TLocalizedValidationError | undefined {
  const relevant = errors.filter((e) => e.keyword !== 'boolean' && !/\/(anyOf|oneOf)\/\d+/.test(e.schemaPath));
  const fields = relevant.filter((e) => e.keyword !== 'additionalProperties').map((e) => ({ e, rank: rankOf(schema, placeOf(e)) }));
  fields.sort((x, y) => before(x.rank, y.rank));
  return fields[0]?.e ?? relevant[0] ?? errors[0];
}

export function explain(schema: TSchema, value: unknown, errors: readonly TLocalizedValidationError[]): SchemaProblem {
  const error = firstError(schema, errors);
  if (error === undefined) return { path: '', message: 'not accepted' };
  const at = valueAt(value, error.instancePath);
  const node = schemaAt(schema, error.schemaPath);
  switch (error.keyword) {
    case 'required': {
      const key = error.params.requiredProperties[0]!;
      const property = ((node.properties as Record<string, TSchema> | undefined) ?? {})[key] ?? {};
      return { path: joinPath(at.path, key), message: `expected ${expected(property)}, got nothing` };
    }
    case 'additionalProperties': {
      const known = fieldNames(node.properties);
      return { path: joinPath(at.path, error.params.additionalProperties[0]!), message: `unknown field; known: ${known.join(', ')}` };
    }
    case '~refine': {
      const rule = node['~rule'] as ((value: unknown) => SchemaProblem | undefined) | undefined;
      const problem = rule?.(at.value) ?? { path: '', message: error.message };
      return { path: pathWithin(at.path, problem.path), message: problem.message };
    }
    case 'maxLength':
    case 'maxItems': {
      // The value itself says little here (a string is cut at 40 characters): its length says what is wrong.
      const length = typeof at.value === 'string' ? [...at.value].length : Array.isArray(at.value) ? at.value.length : undefined;
      const unit = typeof at.value === 'string' ? 'characters' : 'items';
      return { path: at.path, message: `expected ${expected(node)}, got ${length === undefined ? describe(at.value) : `${length} ${unit}`}` };
    }
    default:
      return { path: at.path, message: `expected ${expected(node)}, got ${describe(at.value)}` };
  }
}
