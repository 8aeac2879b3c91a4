/**
 * A quick yes for a value that has a schema's shape, made from the schema itself (no second statement of its rules):
 * what the compiled check costs most on a valid value (an `in` test per required field, a pattern test per key for
 * `additionalProperties: false`) is done here with plain reads of each field and a set of names. It only ever says
 * yes where the compiled check says yes; anything it does not handle (a keyword it does not know, a refinement) it
 * answers no, and the caller asks the compiled check, which also names the problem.
 *
 * Generated as one function per schema, as TypeBox's check is: each field read by its name, so that V8 keeps an inline
 * cache per read (a loop over the fields would make every read a generic lookup).
 */
import type { TSchema } from 'typebox';
import { codePoints } from './stream-id.js';

export type Accept = (value: unknown) => boolean;

/** The keywords handled here; a schema with any other (own, enumerable or not) is left to the compiled check. */
const KNOWN = new Set(['type', 'properties', 'required', 'additionalProperties', 'patternProperties', 'const', 'enum', 'minLength', 'maxLength', 'pattern', 'items', 'description', 'title', '~kind', '~optional', '~expected']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const OBJECT = (v: string) => `(typeof ${v} === "object" && ${v} !== null && !Array.isArray(${v}))`;
/** A literal the generated code may hold. */
const literal = (value: unknown): string | undefined => (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) ? JSON.stringify(value) : undefined);

/** What the generated code is given: regular expressions and name sets, by index. */
class Generator {
  readonly externals: unknown[] = [];
  private names = 0;

  external(value: unknown): string {
    this.externals.push(value);
    return `E[${this.externals.length - 1}]`;
  }

  fresh(): string {
    return `x${this.names++}`;
  }

  /** A boolean expression for "`v` has the schema's shape", or undefined where a keyword is not handled here. */
  accepts(schema: unknown, v: string): string | undefined {
    if (!isObject(schema) || Object.getOwnPropertySymbols(schema).length > 0 || Object.getOwnPropertyNames(schema).some((k) => !KNOWN.has(k))) return undefined;
    const keys = Object.keys(schema);
    const only = (...allowed: string[]) => keys.every((k) => allowed.includes(k) || k === 'description' || k === 'title');
    if ('const' in schema) {
      const value = literal(schema.const);
      return value !== undefined && (schema.type === undefined || schema.type === typeof schema.const) && only('type', 'const') ? `(${v} === ${value})` : undefined;
    }
    if ('enum' in schema) {
      const values = schema.enum;
      if (!Array.isArray(values) || values.length === 0 || !values.every((x) => typeof x === 'string') || !only('enum')) return undefined;
      return `(${values.map((x) => `${v} === ${JSON.stringify(x)}`).join(' || ')})`;
    }
    switch (schema.type) {
      case undefined:
        // No keyword but annotations: anything (`Type.Unknown()`).
        return only() ? 'true' : undefined;
      case 'boolean':
        return only('type') ? `(typeof ${v} === "boolean")` : undefined;
      case 'string':
        return this.string(schema, v);
      case 'array': {
        if (!only('type', 'items')) return undefined;
        const x = this.fresh();
        const item = this.accepts(schema.items, x);
        // As the compiled check reads an array (`every`, which passes over holes).
        return item === undefined ? undefined : `(Array.isArray(${v}) && ${v}.every((${x}) => ${item}))`;
      }
      case 'object':
        return this.object(schema, v, only);
      default:
        return undefined;
    }
  }

  private string(schema: Record<string, unknown>, v: string): string | undefined {
    const { minLength, maxLength, pattern } = schema;
    if ((minLength !== undefined && !Number.isSafeInteger(minLength)) || (maxLength !== undefined && !Number.isSafeInteger(maxLength)) || (pattern !== undefined && typeof pattern !== 'string')) return undefined;
    const parts = [`typeof ${v} === "string"`];
    // A code point is one or two UTF-16 units: the length alone decides, but near the bounds.
    if (minLength !== undefined) parts.push(`(${v}.length >= ${(minLength as number) * 2} || (${v}.length >= ${minLength as number} && codePoints(${v}) >= ${minLength as number}))`);
    if (maxLength !== undefined) parts.push(`(${v}.length <= ${maxLength as number} || (${v}.length <= ${(maxLength as number) * 2} && codePoints(${v}) <= ${maxLength as number}))`);
    // The pattern as the compiled check reads it (TypeBox: the `u` flag).
    if (pattern !== undefined) parts.push(`${this.external(new RegExp(pattern as string, 'u'))}.test(${v})`);
    return `(${parts.join(' && ')})`;
  }

  private object(schema: Record<string, unknown>, v: string, only: (...allowed: string[]) => boolean): string | undefined {
    const { properties, required, additionalProperties, patternProperties } = schema;
    if (properties === undefined && patternProperties !== undefined) {
      // A record whose values may be anything (`Type.Record(Type.String(), Type.Unknown())`): any object.
      if (!only('type', 'patternProperties') || !isObject(patternProperties)) return undefined;
      return Object.values(patternProperties).every((s) => this.accepts(s, 'x') === 'true') ? OBJECT(v) : undefined;
    }
    if (!only('type', 'properties', 'required', 'additionalProperties') || !isObject(properties)) return undefined;
    if ((required !== undefined && !Array.isArray(required)) || (additionalProperties !== undefined && additionalProperties !== false)) return undefined;
    const requiredKeys = new Set<unknown>(required ?? []);
    const parts = [OBJECT(v)];
    for (const [key, sub] of Object.entries(properties)) {
      if (key === '__proto__') return undefined;
      const field = `${v}[${JSON.stringify(key)}]`;
      const accepts = this.accepts(sub, field);
      if (accepts === undefined) return undefined;
      // A required field is one the value has (where its schema takes anything, reading it cannot tell); an optional
      // one may be absent or undefined, as the compiled check has it.
      if (requiredKeys.delete(key)) parts.push(accepts === 'true' ? `(${JSON.stringify(key)} in ${v})` : accepts);
      else if (accepts !== 'true') parts.push(`(${field} === undefined || ${accepts})`);
    }
    if (requiredKeys.size > 0) return undefined;
    if (additionalProperties === false) parts.push(`${this.external(ownNamesIn(new Set(Object.keys(properties))))}(${v})`);
    return `(${parts.join(' && ')})`;
  }
}

/** Whether an object's own names (enumerable or not, as the compiled check lists them) are all of `allowed`. */
const ownNamesIn =
  (allowed: ReadonlySet<string>) =>
  (value: object): boolean => {
    const names = Object.getOwnPropertyNames(value);
    for (let i = 0; i < names.length; i++) if (!allowed.has(names[i]!)) return false;
    return true;
  };

/** The quick yes for `schema` (see the module's comment): true only where the compiled check accepts the value. */
export function fastAccept(schema: TSchema): Accept {
  const generator = new Generator();
  const body = generator.accepts(schema, 'value');
  if (body === undefined) return () => false;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the schema's own keywords; keys and literals as JSON, patterns passed in
  return new Function('E', 'codePoints', `return (value) => ${body};`)(generator.externals, codePoints) as Accept;
}
