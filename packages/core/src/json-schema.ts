/** A schema as the JSON Schema document published under docs/schemas/ (2020-12; TypeBox's own markers are not in it). */
import type { TSchema } from 'typebox';

export interface SchemaDocumentInfo {
  readonly title: string;
  readonly description: string;
}

/** The document's text: the schema's keywords as JSON, two-space indented, with a closing newline. */
export function jsonSchemaText(schema: TSchema, info: SchemaDocumentInfo): string {
  const document = { $schema: 'https://json-schema.org/draft/2020-12/schema', title: info.title, description: info.description, ...schema };
  return `${JSON.stringify(document, null, 2)}\n`;
}
