/** The JSON Schemas published under docs/schemas/, from the schemas the code checks with (`pnpm docs:schemas` writes them). */
import { DeviceCommandSchema, EventSchema, jsonSchemaText } from '@hotpatch/core';
import { AgentReportSchema, FleetPolicySchema } from '@hotpatch/fleet';
import { InvariantsFileSchema, ScenarioSchema } from '@hotpatch/check';

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
      text: jsonSchemaText(FleetPolicySchema, {
        title: 'hotpatch rollout policy',
        description: 'A rollout policy file (`hotpatch simulate --policy`, `hotpatch whatif --policy`): the rings in order, each with its deferral, failure budget, health gate and deadline, and the timeouts. Ring names are each used once.',
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
