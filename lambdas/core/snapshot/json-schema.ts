import { z } from 'zod';
import { catalogEntrySchema, snapshotManifestSchema } from './manifest.ts';

/** The JSON Schema of the manifest, generated from the same definition the code validates with. */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://sfbackup.dev/schemas/snapshot-manifest.schema.json',
    title: 'Salesforce backup snapshot manifest',
    ...z.toJSONSchema(snapshotManifestSchema),
    // The rule the definition's refinement holds, which the generated schema leaves out: where
    // the files are listed follows from the format.
    allOf: [
      {
        if: { properties: { formatVersion: { const: 1 } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords, not a thenable.
        then: { not: { required: ['fileLists'] } },
      },
      {
        if: { properties: { formatVersion: { const: 2 } } },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords, not a thenable.
        then: { required: ['fileLists'], properties: { files: { maxItems: 0 } } },
      },
    ],
    $defs: { catalogEntry: z.toJSONSchema(catalogEntrySchema) },
  };
}
