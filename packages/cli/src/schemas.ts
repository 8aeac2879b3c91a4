/** The JSON Schemas published under docs/schemas/, from the schemas the code checks with (`pnpm docs:schemas` writes them). */
import { EventSchema, jsonSchemaText } from '@hotpatch/core';

export function publishedSchemas(): Array<{ readonly file: string; readonly text: string }> {
  return [
    {
      file: 'event.schema.json',
      text: jsonSchemaText(EventSchema, {
        title: 'hotpatch event',
        description: 'One event of a hotpatch log (a line of a JSONL timeline): its envelope, its stream kind and type, and that type’s data. See docs/events.md.',
      }),
    },
  ];
}
