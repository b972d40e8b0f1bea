import { z } from 'zod';
import { catalogEntrySchema, snapshotManifestSchema } from './manifest.ts';

/** The JSON Schema of the manifest, generated from the same definition the code validates with. */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://sfbackup.dev/schemas/snapshot-manifest.schema.json',
    title: 'Salesforce backup snapshot manifest',
    ...z.toJSONSchema(snapshotManifestSchema),
    $defs: { catalogEntry: z.toJSONSchema(catalogEntrySchema) },
  };
}
