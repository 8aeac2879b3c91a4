/** The JSON Schemas published under docs/schemas/, from the schemas the code checks with (`pnpm docs:schemas` writes them). */
import { DeviceCommandSchema, EventSchema, jsonSchemaText, Type } from '@hotpatch/core';
import { AgentReportSchema, FleetPolicySchema } from '@hotpatch/fleet';
import { CustomInvariantsSchema, InvariantsFileSchema, ScenarioSchema } from '@hotpatch/check';

/** A policy file: the policy (fleet's FleetPolicySchema) and, for `hotpatch check --policy`, invariants of your own. */
const PolicyFileSchema = Type.Object(
  {
    ...FleetPolicySchema.properties,
    invariants: Type.Optional({ ...CustomInvariantsSchema, description: 'Invariants of your own, checked by `hotpatch check --policy` besides the built-in ones (as an --invariants file’s); the orchestrator does not read them.' }),
  },
  { additionalProperties: false },
);

export function publishedSchemas(): Array<{ readonly file: string; readonly text: string }> {
  return [
    {
      file: 'event.schema.json',
      text: jsonSchemaText(EventSchema, {
        title: 'hotpatch event',
        description: 'One event of a hotpatch log (a line of a JSONL timeline): its envelope, its stream kind and type, and that type’s data. See docs/events.md.',
      }),
    },
    {
      file: 'device-command.schema.json',
      text: jsonSchemaText(DeviceCommandSchema, {
        title: 'hotpatch device command',
        description: 'A command on a device’s stream (`engine.execute`), one of its types with that type’s fields; checked before anything is decided. See packages/engine/README.md.',
      }),
    },
    {
      file: 'agent-report.schema.json',
      text: jsonSchemaText(AgentReportSchema, {
        title: 'hotpatch agent report',
        description: 'What a device’s agent reports to the orchestrator (`report()`), one of its kinds with that kind’s fields; checked before anything is decided. See packages/fleet/README.md.',
      }),
    },
    {
      file: 'policy.schema.json',
      text: jsonSchemaText(PolicyFileSchema, {
        title: 'hotpatch rollout policy',
        description: 'A rollout policy file (`hotpatch simulate --policy`, `hotpatch whatif --policy`, `hotpatch serve --policy`, `hotpatch check --policy`): the rings in order, each with its deferral, failure budget, health gate and deadline, and the timeouts. Ring names are each used once. Optional `invariants` of your own are for `hotpatch check --policy` (see docs/model-checking.md).',
      }),
    },
    {
      file: 'scenario.schema.json',
      text: jsonSchemaText(ScenarioSchema, {
        title: 'hotpatch check scenario',
        description: 'The finite world `hotpatch check --scenario` explores. Baselines and required hotpatches must be ones the scenario has, and hotpatch ids are each used once; its invariants are `never` of a state of the device machine.',
      }),
    },
    {
      file: 'invariants.schema.json',
      text: jsonSchemaText(InvariantsFileSchema, {
        title: 'hotpatch check invariants',
        description:
          'Invariants of your own for `hotpatch check --invariants` (a scenario check or a policy check), each one of a few parameterised predicates told apart by `kind`. Rings and states must be ones the model has; a scenario takes `never` only. See docs/model-checking.md, “Your own invariants”.',
      }),
    },
  ];
}
