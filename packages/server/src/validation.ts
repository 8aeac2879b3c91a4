/**
 * Requests checked by the library's own compiled checks (`compileSchema` from @hotpatch/core): one schema per shape,
 * the same TypeBox definition the library checks with (an agent report is `AgentReportSchema`), and the same
 * one-line problem naming the path. A type provider gives the handlers the schemas' types. Responses are written
 * with JSON.stringify: their schemas document them (OpenAPI) and never filter a field out.
 */
import { compileSchema, HotpatchError, type SchemaProblem } from '@hotpatch/core';
import type { FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import type { Static, TSchema } from 'typebox';

/** The handlers' types from the routes' TypeBox schemas (what @fastify/type-provider-typebox declares, without its run time). */
export interface TypeBoxTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

/** A request whose body, query or path parameters do not have the route's shape: 400, naming where. */
export class InvalidRequestError extends HotpatchError {
  readonly code = 'INVALID_REQUEST';
  constructor(
    /** body, querystring, params or headers. */
    readonly part: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${part}${path === '' ? '' : `.${path}`}: ${problem}`.replace(/^querystring/, 'query'));
  }
}

/** A body nested past MAX_BODY_DEPTH: a request refused by a bound of the service (counted at /metrics), 400 as any other. */
export class BodyTooDeepError extends InvalidRequestError {
  constructor(path: string) {
    super('body', path, `nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
}

/** A query or path value as its schema's scalar type says (they arrive as text): whole numbers, numbers, booleans. */
function scalarsOf(schema: TSchema): (value: unknown) => unknown {
  const properties = ((schema as { properties?: Record<string, { type?: string }> }).properties ?? {}) as Record<string, { type?: string }>;
  const typed = Object.entries(properties).filter(([, s]) => s.type === 'integer' || s.type === 'number' || s.type === 'boolean');
  if (typed.length === 0) return (value) => value;
  return (value) => {
    if (typeof value !== 'object' || value === null) return value;
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [key, s] of typed) {
      const text = out[key];
      if (typeof text !== 'string') continue;
      if (s.type === 'boolean' && (text === 'true' || text === 'false')) out[key] = text === 'true';
      else if (s.type !== 'boolean' && /^-?\d+(\.\d+)?$/.test(text)) out[key] = Number(text);
    }
    return out;
  };
}

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = compileSchema(schema);
  const part = httpPart ?? 'body';
  const convert = part === 'querystring' || part === 'params' ? scalarsOf(schema) : (value: unknown) => value;
  return (value: unknown) => {
    // A body-less POST is an empty object to a schema whose fields are all optional (a resume with no event id).
    const given = convert(part === 'body' && (value === undefined || value === null) ? {} : value);
    const problem: SchemaProblem | undefined = check.problem(given);
    return problem === undefined ? { value: given } : { error: new InvalidRequestError(part, problem.path, problem.message) };
  };
};

export const serializerCompiler = () => (data: unknown) => JSON.stringify(data);

/** The deepest a request body may nest (objects and arrays): far past any route's shape, short of any stack. */
export const MAX_BODY_DEPTH = 64;

/**
 * The path of the first value nested deeper than `max` levels in a parsed body (`meta.a[0][0]…`), undefined when none
 * is: JSON.parse takes any depth, and what reads the body after it (the report's digest, the log's canonical JSON)
 * recurses, so a body of a million brackets would exhaust the stack there. Stops `max` levels down. Every request's
 * body is walked: the path is written only for a body refused.
 */
export function nestedTooDeep(value: unknown, max = MAX_BODY_DEPTH): string | undefined {
  const keys = deepest(value, max);
  return keys?.reduceRight<string>((path, key) => (typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`), '');
}

/** The keys down to the first value past `max` levels, innermost first; undefined when none is. */
function deepest(value: unknown, max: number): (string | number)[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (max === 0) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const deeper = deepest(value[i], max - 1);
      if (deeper !== undefined) return (deeper.push(i), deeper);
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const deeper = deepest((value as Record<string, unknown>)[key], max - 1);
    if (deeper !== undefined) return (deeper.push(key), deeper);
  }
  return undefined;
}
