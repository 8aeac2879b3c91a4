/**
 * A device's commands (what an agent or the orchestrator asks of a device's stream): each type's fields defined once,
 * as a schema giving the DeviceCommand type, the run-time check and docs/schemas/device-command.schema.json.
 */
import { Type } from '../typebox.js';
import type { TSchema } from 'typebox';
import { LOWER_UUID_PATTERN } from '../envelope.js';
import { InvalidDocumentError } from '../errors.js';
import { fastAccept } from '../fast-accept.js';
import { compileSchema, type SchemaCheck, type SchemaProblem } from '../schema-check.js';
import { describe, expecting, NonEmptyString, StringList, Text, type Shape } from '../schema.js';
import { StreamIdSchema } from '../stream-id.js';
import { DeviceProfileSchema } from './events.js';

const command = <T extends string, F extends Record<string, TSchema>>(type: T, fields: F) =>
  Type.Object(
    {
      type: Type.Literal(type),
      device: StreamIdSchema,
      id: Type.Optional(expecting('a lower-case UUID', Type.String({ pattern: LOWER_UUID_PATTERN, description: 'Idempotency key: an agent retrying the same report sends the same id, and the command is recorded once. Its events’ ids derive from it.' }))),
      ...fields,
    },
    { additionalProperties: false },
  );

/** The commands, by type: their fields besides `type`, `device` and `id`. */
export const DEVICE_COMMANDS = {
  EnrolDevice: command('EnrolDevice', { profile: DeviceProfileSchema, ring: StreamIdSchema, baseline: NonEmptyString }),
  AssessEligibility: command('AssessEligibility', { latestBaseline: NonEmptyString }),
  StagePatch: command('StagePatch', { hotpatch: Type.Object({ id: NonEmptyString, baseline: NonEmptyString, requires: StringList, liveRevert: Type.Boolean() }) }),
  StartApply: command('StartApply', { patch: NonEmptyString }),
  ReportApplied: command('ReportApplied', { patch: NonEmptyString }),
  ReportApplyFailed: command('ReportApplyFailed', { patch: NonEmptyString, reason: Text }),
  ReportHealth: command('ReportHealth', { patch: NonEmptyString, healthy: Type.Boolean(), signal: Type.Optional(Text) }),
  RollBack: command('RollBack', { patch: NonEmptyString, reason: Text }),
  ReportRolledBack: command('ReportRolledBack', { patch: NonEmptyString }),
  ReportRollbackFailed: command('ReportRollbackFailed', { patch: NonEmptyString, reason: Text }),
  RequireReboot: command('RequireReboot', { reason: NonEmptyString, baseline: Type.Optional(NonEmptyString) }),
  ReportBaselineInstalled: command('ReportBaselineInstalled', { baseline: NonEmptyString }),
  RetireDevice: command('RetireDevice', {}),
};

const C = DEVICE_COMMANDS;
export const DeviceCommandSchema = Type.Union([
  C.EnrolDevice, C.AssessEligibility, C.StagePatch, C.StartApply, C.ReportApplied, C.ReportApplyFailed, C.ReportHealth,
  C.RollBack, C.ReportRolledBack, C.ReportRollbackFailed, C.RequireReboot, C.ReportBaselineInstalled, C.RetireDevice,
]);
export type DeviceCommand = Shape<typeof DeviceCommandSchema>;

/** A command that is not one (its path and problem: see InvalidDocumentError), refused before anything is decided. */
export class InvalidCommandError extends InvalidDocumentError {
  readonly code = 'INVALID_COMMAND';
}

/**
 * Checks values against a union told apart by one field (a command's `type`, a report's `kind`): the field's value
 * picks one object's check, so a value costs one object's check, not the union's; a valid value is accepted by its
 * quick check (see fast-accept.ts), anything else goes to the compiled one, which names its problem.
 */
export function taggedCheck<S extends TSchema>(tag: string, schemas: Readonly<Record<string, S>>): (value: unknown) => SchemaProblem | undefined {
  const checks = new Map<string, SchemaCheck<unknown> & { readonly accept: (value: unknown) => boolean }>(
    Object.entries(schemas).map(([name, schema]) => [name, { ...compileSchema(schema), accept: fastAccept(schema) }]),
  );
  const names = [...checks.keys()].map((n) => JSON.stringify(n)).join(', ');
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { path: '', message: `expected an object, got ${describe(value)}` };
    const name = (value as Record<string, unknown>)[tag];
    const check = typeof name === 'string' ? checks.get(name) : undefined;
    if (check === undefined) return { path: tag, message: `expected one of ${names}, got ${describe(name)}` };
    return check.accept(value) || check.check(value) ? undefined : check.problem(value);
  };
}

const deviceCommandProblem = taggedCheck('type', DEVICE_COMMANDS);

/** The value as a DeviceCommand, or InvalidCommandError naming the path of its first problem. */
export function checkDeviceCommand(value: unknown): DeviceCommand {
  const problem = deviceCommandProblem(value);
  if (problem !== undefined) throw new InvalidCommandError(`${commandName(value)} command`, problem.path, problem.message);
  return value as DeviceCommand;
}

const commandName = (value: unknown) => {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  return typeof type === 'string' && type in DEVICE_COMMANDS ? type : 'device';
};
