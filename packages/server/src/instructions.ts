/**
 * What a device's agent is to do next, read from its state in the log: apply the patch in flight, check its health,
 * roll it back, or restart onto a baseline (the simulator's agent answers the same states). Pure.
 */
import { NonEmptyString, oneOf, StreamIdSchema, Type, type DeviceState, type Shape } from '@hotpatch/core';

export const InstructionSchema = Type.Object(
  {
    device: StreamIdSchema,
    /** The device stream's version: the agent passes it back as `after` to wait for the next instruction. */
    version: Type.Integer({ minimum: 1 }),
    state: Type.String({ description: 'The device’s lifecycle state (docs/lifecycle.md).' }),
    action: oneOf('apply', 'check-health', 'roll-back', 'restart'),
    patch: Type.Optional(NonEmptyString),
    /** For a restart: what to install (a baseline or a cumulative update), and why. */
    baseline: Type.Optional(NonEmptyString),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Instruction = Shape<typeof InstructionSchema>;

/** The instruction a device's state stands for; undefined when the device has nothing to do. */
export function instructionOf(device: string, version: number, state: DeviceState): Instruction | undefined {
  const { value, context } = state;
  const patch = context.inFlight?.patch;
  const common = { device, version, state: value };
  switch (value) {
    case 'applying':
      return patch === undefined ? undefined : { ...common, action: 'apply', patch };
    case 'applied':
      return patch === undefined ? undefined : { ...common, action: 'check-health', patch };
    case 'rollingBack':
      return patch === undefined ? undefined : { ...common, action: 'roll-back', patch };
    case 'needsReboot': {
      const baseline = context.rebootBaseline ?? context.baseline;
      return baseline === null ? undefined : { ...common, action: 'restart', baseline, ...(context.rebootReason !== null ? { reason: context.rebootReason } : {}) };
    }
    default:
      return undefined;
  }
}
