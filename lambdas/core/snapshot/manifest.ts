import { ErrorName } from '../../../contract/workflow-contract.ts';
import { z } from 'zod';

/**
 * Version of the manifest layout a backup writes; a reader refuses versions it does not know.
 * 1: every file body listed in the manifest itself (`files`). 2: file bodies listed in the
 * snapshot's own records, named with their checksums in `fileLists` (`files` empty).
 */
export const MANIFEST_FORMAT_VERSION = 2;
/** Manifest versions this code reads. */
export const MANIFEST_FORMAT_VERSIONS = [1, 2] as const;
/** Version of the catalog entry layout. */
export const CATALOG_FORMAT_VERSION = 1;

/**
 * Why an object the org lists is not in a snapshot (see docs/snapshot-format.md, "Skipped objects"):
 * - `not-stored`: its rows are not kept in Salesforce (external objects, platform and change events);
 * - `derived`: its rows are computed from other objects' rows, which are exported themselves;
 * - `needs-filter`: Salesforce answers queries of it only with a filter the backup cannot supply;
 * - `not-queryable`: no query API serves it (describe flags, or Salesforce refused the query);
 * - `excluded`: the settings leave it out.
 */
export const SKIP_REASONS = ['not-stored', 'derived', 'needs-filter', 'not-queryable', 'excluded'] as const;

/** One of the fixed reasons an object is skipped. */
export type SkipReason = (typeof SKIP_REASONS)[number];

/** The fields a run may use to read only the rows changed since the previous snapshot, best first. */
export const WATERMARK_FIELDS = ['SystemModstamp', 'LastModifiedDate', 'CreatedDate'] as const;

/** A field an incremental run filters on. */
export type WatermarkField = (typeof WATERMARK_FIELDS)[number];

/** An object the snapshot leaves out, with why. */
export const skippedObjectSchema = z.object({
  name: z.string(),
  reason: z.string().describe('One line saying why, for a person.'),
  reasonCode: z
    .enum(SKIP_REASONS)
    .optional()
    .describe('The reason from the fixed list; absent in manifests written before the list existed.'),
  firstTime: z
    .boolean()
    .optional()
    .describe(
      'True when the previous complete snapshot of the org did not leave it out: this run alerted about it, later runs do not.',
    ),
});

/** One field of an exported object, as described by the org when the snapshot was taken. */
export const snapshotFieldSchema = z.object({
  name: z.string().min(1),
  type: z.string().min(1).describe('Salesforce field type: id, string, reference, datetime, base64, ...'),
  referenceTo: z
    .array(z.string())
    .optional()
    .describe('Target objects of a lookup (several when polymorphic).'),
  relationshipName: z.string().optional(),
  nillable: z.boolean().optional(),
  createable: z.boolean().optional(),
  updateable: z.boolean().optional(),
  externalId: z.boolean().optional(),
  calculated: z.boolean().optional(),
  inCsv: z
    .boolean()
    .describe(
      'False for fields the CSV parts leave out (base64 bodies, stored under files/; compound fields).',
    ),
});

/** One gzip CSV part of an object's rows. */
export const snapshotPartSchema = z.object({
  key: z.string().min(1).describe('Store key of the gzip-compressed CSV part.'),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().describe('Size of the compressed part as stored.'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  versionId: z
    .string()
    .min(1)
    .optional()
    .describe('The store version the backup wrote; a restore reads this version, never a later one.'),
});

/** What one run changed in an object, per kind of change (see `change-kinds.ts`). */
export const changeCountsSchema = z.object({
  inserted: z.number().int().nonnegative().describe('Ids the chain did not hold.'),
  updated: z
    .number()
    .int()
    .nonnegative()
    .describe('Rows live before and after, with a newer SystemModstamp.'),
  deleted: z.number().int().nonnegative().describe('Live before, in the recycle bin now.'),
  undeleted: z.number().int().nonnegative().describe('In the recycle bin before, live now.'),
  hardDeleted: z
    .number()
    .int()
    .nonnegative()
    .describe('Held before, gone from the org now (hard deleted, or purged from the recycle bin).'),
  restored: z
    .number()
    .int()
    .nonnegative()
    .describe(
      'Rows a restore wrote: inserted again under new ids (linked), or written back by the user restores sign in as while a restore ran; counted under no other kind.',
    ),
});

/** What a snapshot holds for one object. */
export const snapshotObjectSchema = z.object({
  name: z.string().min(1),
  status: z
    .enum(['exported', 'unchanged', 'failed'])
    .describe('unchanged: an incremental run found no change since the base snapshot and exported nothing.'),
  api: z.enum(['bulk', 'rest', 'none']).describe('How rows were read: Bulk API 2.0 queryAll, REST queryAll.'),
  fields: z.array(snapshotFieldSchema),
  rows: z.number().int().nonnegative().describe('Rows exported in this snapshot (deleted rows included).'),
  deletedRows: z.number().int().nonnegative().describe('Exported rows with IsDeleted = true.'),
  bytes: z.number().int().nonnegative(),
  parts: z.array(snapshotPartSchema),
  since: z
    .string()
    .datetime()
    .nullable()
    .describe('Lower bound on the watermark field (incremental), null for all rows.'),
  watermarkField: z
    .enum(WATERMARK_FIELDS)
    .nullable()
    .optional()
    .describe(
      'The field incremental runs read changes by: SystemModstamp, else LastModifiedDate, else CreatedDate; null when the object has none and every run exports it in full. Absent in older manifests (SystemModstamp when the object has it).',
    ),
  strategy: z
    .enum(['all', 'per-parent', 'per-status'])
    .optional()
    .describe(
      'How rows were selected: all (one query), per-parent (ContentDocumentLink by batches of ContentDocumentId), per-status (Knowledge article versions by PublishStatus). Absent in older manifests: all.',
    ),
  watermark: z
    .string()
    .datetime()
    .describe('Rows changed after this instant are not guaranteed to be in here.'),
  countAtStart: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe('queryAll COUNT() when the run was planned.'),
  countAtEnd: z.number().int().nonnegative().optional().describe('queryAll COUNT() when the run finished.'),
  tombstones: snapshotPartSchema
    .optional()
    .describe(
      "Incrementals: the ids Salesforce's delete log (getDeleted) lists as deleted since the base snapshot, as a gzip CSV of Id,DeletedDate. A listed row this snapshot does not hold is gone from the org (hard deleted, or purged from the recycle bin) as of this snapshot; one it holds is in the recycle bin or back.",
    ),
  fullReason: z
    .string()
    .optional()
    .describe(
      'Why an incremental read every row of this object (since is null) instead of its changes: its delete log could not cover the window, or it keeps none and is read per parent (ContentDocumentLink, read whole on every run). The rows are then the whole object, as in a full snapshot.',
    ),
  journalSettled: z
    .string()
    .datetime()
    .optional()
    .describe(
      'Continuous orgs: when the change-event journal writer received the newest gap, overflow or wildcard event of this object the run served (those received since the previous data snapshot window began). The run read the object in full, so those events, and every one received earlier, are settled by this snapshot: a point-in-time view based on it does not count them as uncertain.',
    ),
  changes: changeCountsSchema
    .optional()
    .describe(
      "What the run changed in the object, counted against the version of each row the chain held before (a row read again unchanged counts for nothing). Absent on an org's first snapshot and in older manifests.",
    ),
  links: snapshotPartSchema
    .optional()
    .describe(
      'Rows a restore inserted again under new ids, each linked to the id it replaces: a gzip CSV of Id,ReplacesId.',
    ),
  apiCalls: z.number().int().nonnegative(),
  error: z.string().optional(),
  continuous: z
    .boolean()
    .optional()
    .describe(
      "Continuous protection: true when the object's change events were members of the configured Event Relay's channel when the run was planned, so the change-event journal carries its changes after this snapshot; false when they were not. Absent when the org is not continuous, and in older manifests.",
    ),
});

/** A file body stored by content hash. */
export const snapshotFileSchema = z.object({
  object: z.enum(['ContentVersion', 'Attachment', 'Document']),
  recordId: z.string().min(15),
  field: z.enum(['VersionData', 'Body']),
  key: z.string().min(1).describe('Store key of the raw bytes: orgs/<org>/files/sha256/<aa>/<sha256>.'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  md5: z.string().optional().describe('ContentVersion.Checksum when the org gave one.'),
  downloaded: z.boolean().describe('False when the body was already in the vault and was not fetched again.'),
});

/**
 * One record of the snapshot listing file bodies (the files step's batch results and the list of
 * bodies reused from the vault), with what the manifest knows of it.
 */
export const snapshotFileListSchema = z.object({
  key: z
    .string()
    .min(1)
    .describe('Store key of the JSON record: a list of file entries, or an object whose `files` is one.'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  count: z.number().int().nonnegative().describe('File entries in the record.'),
});

/** One retrieve's zip, kept exactly as the Metadata API returned it. */
export const snapshotMetadataPartSchema = z.object({
  key: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  components: z.number().int().nonnegative(),
  types: z.array(z.string()),
  versionId: z
    .string()
    .min(1)
    .optional()
    .describe('The store version the backup wrote; a restore reads this version, never a later one.'),
});

/** Something that went wrong and made the snapshot incomplete. */
export const snapshotErrorSchema = z.object({
  scope: z.enum(['object', 'files', 'metadata', 'verify', 'count']),
  subject: z.string().describe('The object name, file id or metadata part concerned.'),
  name: z.string(),
  message: z.string(),
});

/** The snapshot manifest: the one document that says what a snapshot holds and where. */
export const snapshotManifestSchema = z
  .object({
    formatVersion: z.union([z.literal(MANIFEST_FORMAT_VERSIONS[0]), z.literal(MANIFEST_FORMAT_VERSIONS[1])]),
    snapshotId: z.string().regex(/^\d{8}T\d{9}Z-[0-9a-z]{6}$/),
    runId: z.string().describe('The workflow execution that took it.'),
    org: z.string().min(1).describe('The org key used in the vault (the config name).'),
    orgId: z.string().min(15),
    apiVersion: z.string(),
    mode: z
      .enum(['full', 'incremental', 'metadata'])
      .describe(
        'metadata: a metadata-only run; its objects list is empty and it is not part of data chains.',
      ),
    requestedMode: z.enum(['full', 'incremental', 'metadata']),
    baseSnapshotId: z.string().nullable().describe('For incrementals: the complete snapshot it builds on.'),
    startedAt: z.string().datetime(),
    finishedAt: z.string().datetime(),
    watermark: z
      .string()
      .datetime()
      .describe('Start of the run; the next incremental reads changes from here.'),
    overlapSeconds: z.number().int().nonnegative(),
    fullReason: z
      .string()
      .optional()
      .describe(
        'Why a run asked to be incremental ran as a full one (the gap since the last complete snapshot is longer than Salesforce keeps its delete log, or a break in the change-event journal: see journalBreak).',
      ),
    journalBreak: z
      .object({
        from: z.string().datetime(),
        to: z.string().datetime(),
        reason: z.string().describe('What the relay reported, the two instants and the hours between them.'),
      })
      .optional()
      .describe(
        'Continuous protection: the change-event journal is not complete from `from` to `to` (the Event Relay relayed nothing for longer than Salesforce keeps change events), and this run was made full because of it. A later run does not record the same break again.',
      ),
    warnings: z
      .array(z.string())
      .optional()
      .describe(
        'What the run could not check and did not fail for, such as an Event Relay the integration user cannot read. Absent when there is none.',
      ),
    objects: z.array(snapshotObjectSchema),
    skippedObjects: z.array(skippedObjectSchema),
    files: z
      .array(snapshotFileSchema)
      .describe('Format 1: every file body of the snapshot. Format 2: empty; see fileLists.'),
    fileLists: z
      .array(snapshotFileListSchema)
      .optional()
      .describe(
        "Format 2: the records listing the snapshot's file bodies, each with its checksum and entry count, so a manifest stays small whatever the number of files.",
      ),
    metadata: z.object({
      included: z.boolean(),
      components: z.number().int().nonnegative(),
      parts: z.array(snapshotMetadataPartSchema),
    }),
    apiCalls: z.object({
      total: z.number().int().nonnegative(),
      plan: z.number().int().nonnegative(),
      export: z.number().int().nonnegative(),
      files: z.number().int().nonnegative(),
      metadata: z.number().int().nonnegative(),
      finish: z.number().int().nonnegative(),
    }),
    errors: z.array(snapshotErrorSchema),
  })
  // Where the files are listed follows from the format, so a reader of either never misses them.
  .superRefine((manifest, ctx) => {
    if (manifest.formatVersion === 1 && manifest.fileLists !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['fileLists'],
        message: 'format 1 lists its files in `files`; `fileLists` belongs to format 2',
      });
    if (manifest.formatVersion === 2 && manifest.files.length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['files'],
        message: 'format 2 lists its files in the records `fileLists` names; `files` must be empty',
      });
    if (manifest.formatVersion === 2 && manifest.fileLists === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['fileLists'],
        message: 'format 2 names its file lists (an empty list when it holds no file)',
      });
  });

/** The catalog entry written last: only `status: complete` makes a snapshot usable. */
export const catalogEntrySchema = z.object({
  formatVersion: z.literal(CATALOG_FORMAT_VERSION),
  snapshotId: z.string(),
  org: z.string(),
  orgId: z.string(),
  mode: z.enum(['full', 'incremental', 'metadata']),
  baseSnapshotId: z.string().nullable(),
  metadata: z.boolean().describe('Whether the snapshot holds a metadata retrieve.'),
  status: z.enum(['complete', 'failed']),
  startedAt: z.string().datetime(),
  finishedAt: z.string().datetime(),
  watermark: z.string().datetime(),
  manifestKey: z.string().nullable(),
  manifestSha256: z.string().nullable(),
  problems: z.array(z.string()).describe('Why a failed snapshot is not usable; empty when complete.'),
});

/** Parsed snapshot manifest. */
export type SnapshotManifest = z.infer<typeof snapshotManifestSchema>;
/** One object's entry in a manifest. */
export type SnapshotObject = z.infer<typeof snapshotObjectSchema>;
/** One field of an object in a manifest. */
export type SnapshotField = z.infer<typeof snapshotFieldSchema>;
/** An object a snapshot leaves out. */
export type SkippedObject = z.infer<typeof skippedObjectSchema>;
/** One gzip CSV part. */
export type SnapshotPart = z.infer<typeof snapshotPartSchema>;
/** One stored file body. */
export type SnapshotFile = z.infer<typeof snapshotFileSchema>;
/** One record listing file bodies. */
export type SnapshotFileList = z.infer<typeof snapshotFileListSchema>;
/** One metadata zip. */
export type SnapshotMetadataPart = z.infer<typeof snapshotMetadataPartSchema>;
/** One error recorded in a manifest. */
export type SnapshotError = z.infer<typeof snapshotErrorSchema>;
/** One catalog entry. */
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

/** A stored manifest or catalog entry did not match the documented format. */
export class InvalidSnapshotManifestError extends Error {
  override readonly name = ErrorName.InvalidSnapshotManifest;
}

/** A stored part or record did not match its manifest entry. */
export class SnapshotCorruptError extends Error {
  override readonly name = ErrorName.SnapshotCorrupt;
}

/** Parses a manifest read from the store, naming every field that does not match the format. */
export function parseManifest(text: string, key: string): SnapshotManifest {
  return parseWith(snapshotManifestSchema, text, key);
}

/** Parses a catalog entry read from the store. */
export function parseCatalogEntry(text: string, key: string): CatalogEntry {
  return parseWith(catalogEntrySchema, text, key);
}

function parseWith<T>(schema: z.ZodType<T>, text: string, key: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidSnapshotManifestError(`${key} is not JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidSnapshotManifestError(
      `${key} does not match the snapshot format: ${problems.join('; ')}`,
    );
  }
  return result.data;
}
