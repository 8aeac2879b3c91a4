import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { TSchema } from 'typebox';
import { checkDeviceCommand, DEVICE_COMMANDS, InvalidCommandError } from './device/commands.js';
import { fastAccept } from './fast-accept.js';
import { schemaValue, valuesNear } from './testing/schema-values.js';
import { Compile, Type } from './typebox.js';
import { compileSchema, refine } from './schema-check.js';

/** Checks `fastAccept` against TypeBox's compiled check of the same schema: the anchor it stands in for. */
function agreesWithCompiled(name: string, schema: TSchema): void {
  const compiled = Compile(schema);
  const accept = fastAccept(schema);
  test.prop([valuesNear(schema)], { numRuns: 400, seed: 20261207 })(`${name}: accepts exactly what the compiled check accepts`, (value) => {
    expect(accept(value)).toBe(compiled.Check(value));
  });
  test.prop([schemaValue(schema).filter((v) => compiled.Check(v))], { numRuns: 100, seed: 20261207 })(`${name}: accepts a valid value itself`, (value) => {
    expect(accept(value)).toBe(true);
  });
}

describe('fastAccept on the device commands', () => {
  for (const [name, schema] of Object.entries(DEVICE_COMMANDS)) agreesWithCompiled(name, schema);
});

describe('fastAccept on what it does not handle', () => {
  it('says no, and leaves the value to the compiled check', () => {
    const refined = refine(Type.Object({ a: Type.String() }), () => undefined);
    expect(fastAccept(refined)({ a: 'x' })).toBe(false);
    expect(fastAccept(Type.Integer({ minimum: 0 }))(1)).toBe(false);
    expect(fastAccept(Type.String({ format: 'date-time' }))('2026-12-06T00:00:00Z')).toBe(false);
  });

  it('counts a string\'s length in code points, as JSON Schema does', () => {
    const accept = fastAccept(Type.String({ minLength: 2, maxLength: 3 }));
    expect([accept('😀'), accept('😀😀'), accept('😀😀😀'), accept('😀😀😀😀'), accept('\ud800\ud800\ud800\ud800')]).toEqual([false, true, true, false, false]);
  });
});

describe('checkDeviceCommand with the quick check', () => {
  /** The check as it was before the quick one: the compiled check alone, and its problem. */
  const compiledOnly = (value: unknown): string | undefined => {
    const schema = DEVICE_COMMANDS[(value as { type?: string } | null)?.type as keyof typeof DEVICE_COMMANDS];
    if (typeof value !== 'object' || value === null || Array.isArray(value) || schema === undefined || !Object.hasOwn(DEVICE_COMMANDS, (value as { type: string }).type)) return 'not one';
    const check = compileSchema(schema);
    return check.check(value) ? undefined : `${check.problem(value)!.path}: ${check.problem(value)!.message}`;
  };
  const outcome = (value: unknown): string | undefined => {
    try {
      checkDeviceCommand(value);
      return undefined;
    } catch (error) {
      if (!(error instanceof InvalidCommandError)) throw error;
      return error.path === 'type' || error.path === '' ? 'not one' : `${error.path}: ${error.problem}`;
    }
  };
  const anyCommand = fc.oneof(...Object.values(DEVICE_COMMANDS).map((schema) => valuesNear(schema)));
  test.prop([anyCommand], { numRuns: 1000, seed: 20261207 })('accepts and refuses as the compiled check does, naming the same problem', (value) => {
    expect(outcome(value)).toBe(compiledOnly(value));
  });
});
