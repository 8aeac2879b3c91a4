import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { compileSchema, fastAccept } from '@hotpatch/core';
import { schemaValue, valuesNear } from '@hotpatch/core/testing';
import { AGENT_REPORTS, checkReport, InvalidReportError } from './report-schema.js';

/**
 * checkReport accepts a valid report by a quick check made from the schema, and leaves anything else to the compiled
 * check: anchored here on the compiled check alone, which it must agree with on every value, naming the same problem.
 */
describe('checkReport', () => {
  const compiledOnly = (value: unknown): string | undefined => {
    const kind = (value as { kind?: unknown } | null)?.kind;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof kind !== 'string' || !Object.hasOwn(AGENT_REPORTS, kind)) return 'not one';
    const check = compileSchema(AGENT_REPORTS[kind as keyof typeof AGENT_REPORTS]);
    const problem = check.problem(value);
    return problem === undefined ? undefined : `${problem.path}: ${problem.message}`;
  };
  const outcome = (value: unknown): string | undefined => {
    try {
      checkReport(value);
      return undefined;
    } catch (error) {
      if (!(error instanceof InvalidReportError)) throw error;
      return error.path === 'kind' || error.path === '' ? 'not one' : `${error.path}: ${error.problem}`;
    }
  };
  const anyReport = fc.oneof(...Object.values(AGENT_REPORTS).map((schema) => valuesNear(schema)));
  test.prop([anyReport], { numRuns: 2000, seed: 20261207 })('accepts and refuses as the compiled check does, naming the same problem', (value) => {
    expect(outcome(value)).toBe(compiledOnly(value));
  });
});

describe('the quick check of each report', () => {
  for (const [kind, schema] of Object.entries(AGENT_REPORTS)) {
    const compiled = compileSchema(schema);
    const accept = fastAccept(schema);
    test.prop([valuesNear(schema)], { numRuns: 500, seed: 20261207 })(`${kind}: accepts exactly what the compiled check accepts`, (value) => {
      expect(accept(value)).toBe(compiled.check(value));
    });
    test.prop([schemaValue(schema).filter((v) => compiled.check(v))], { numRuns: 100, seed: 20261207 })(`${kind}: takes a valid report itself`, (value) => {
      expect(accept(value)).toBe(true);
    });
  }
});
