import { ErrorName } from '../../../contract/workflow-contract.ts';
import { z } from 'zod';
import { changeAlertKeysAt, changeAlertsSchema } from './change-alert-settings.ts';
import { withSuggestion } from './nearest-name.ts';

/** Per-org backup settings: from the config (Lambda environment) or the CLI. */
export const backupSettingsSchema = z
  .object({
    /** Only these objects (empty: every object the org allows). */
    includeObjects: z.array(z.string()).default([]),
    /** Objects never backed up. */
    excludeObjects: z.array(z.string()).default([]),
    /** Back up file bodies (ContentVersion, Attachment, Document). */
    files: z.boolean().default(true),
    /** Retrieve metadata on full runs; incremental runs retrieve it only when asked. */
    metadata: z.boolean().default(true),
    /** Share (0-1] of the org's daily API allowance one run may spend. */
    apiShare: z.number().gt(0).lte(1).default(0.5),
    /** Seconds subtracted from the base watermark, for rows committed late. */
    overlapSeconds: z.number().int().nonnegative().default(300),
    /**
     * gzip level of stored parts. Level 1 compresses Salesforce CSV about three times faster than
     * zlib's default 6 (measured here: ~100 vs ~32 MB/s) for parts about 1.5 times larger, and
     * compression is what bounds an export's speed; raise it to trade speed for storage.
     */
    gzipLevel: z.number().int().min(1).max(9).default(1),
    /** Rows per Bulk results page, which is also rows per stored part. */
    pageSize: z.number().int().min(1).max(500_000).default(100_000),
    /**
     * Workers that export one large object's result pages at once (Salesforce's parallel result
     * pages, API 58.0 and later); 1 reads every object as a single stream.
     */
    exportWorkers: z.number().int().min(1).max(16).default(4),
    /** Rows from which an object's Bulk job is exported by `exportWorkers` workers, not one stream. */
    parallelExportMinRows: z.number().int().min(1).default(500_000),
    /** Pages one export invocation writes before handing over to the next (0: no limit). */
    maxPagesPerInvocation: z.number().int().nonnegative().default(0),
    /** Time one invocation may spend before checkpointing, in ms (Lambda's limit is 15 minutes). */
    invocationBudgetMs: z.number().int().positive().default(600_000),
    /** Poll interval for Bulk jobs and metadata retrieves, in ms. */
    pollIntervalMs: z.number().int().nonnegative().default(2_000),
    /** File bodies per Distributed Map item. */
    filesPerBatch: z.number().int().positive().default(50),
    /** Metadata components per retrieve (well under the 10,000-file limit; split further when refused). */
    componentsPerRetrieve: z.number().int().positive().max(10_000).default(2_500),
    /**
     * Largest metadata retrieve zip one invocation holds, in bytes. Salesforce answers a retrieve
     * as one base64 zip inside SOAP, read whole (about 39 MB zipped at most per retrieve); a larger
     * zip is split into smaller retrieves, and one component alone over it fails the run.
     */
    maxRetrieveZipBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /**
     * Alert when an object's updates, deletes or hard deletes pass this share of its live rows...
     * (the org-wide default of those kinds; `changeAlerts` may set each kind apart).
     */
    anomalyPercent: z.number().nonnegative().default(5),
    /** ...or this many rows. */
    anomalyRows: z.number().int().nonnegative().default(1_000),
    /** Per kind, per object, field-level and baseline alert rules (see change-alert-settings.ts). */
    changeAlerts: changeAlertsSchema.optional(),
    /**
     * Continuous protection (docs/continuous.md): the Event Relay partner event source of the org.
     * Each data run then reads the relay's state and its channel's objects from the org.
     */
    continuous: z
      .object({
        partnerEventSource: z.string().regex(/^aws\.partner\/salesforce\.com\/[^/]+\/[^/]+$/, {
          error: 'write the partner event source as aws.partner/salesforce.com/<org id>/<channel id>',
        }),
      })
      .strict()
      .optional(),
  })
  // A misspelt key would otherwise be dropped and its default used without a word.
  .strict();

/** Effective backup settings. */
export type BackupSettings = z.infer<typeof backupSettingsSchema>;

/** Settings that could not be used; the message lists every problem. */
export class InvalidBackupSettingsError extends Error {
  override readonly name = ErrorName.InvalidBackupSettings;
}

/** The keys known at a nested path of the settings, where one has a fixed set. */
function knownKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return Object.keys(backupSettingsSchema.shape);
  if (path[0] === 'continuous' && path.length === 1) return ['partnerEventSource'];
  return path[0] === 'changeAlerts' ? changeAlertKeysAt(path.slice(1)) : undefined;
}

/** Parses settings (JSON text or an object), naming every bad field. */
export function parseBackupSettings(input: unknown): BackupSettings {
  const checked = checkBackupSettings(input);
  if ('settings' in checked) return checked.settings;
  throw new InvalidBackupSettingsError(
    checked.notJson
      ? `Backup settings are not JSON: ${checked.notJson}`
      : `Backup settings are invalid: ${checked.problems.join('; ')}. Known keys: ${Object.keys(backupSettingsSchema.shape).join(', ')}.`,
  );
}

/**
 * The settings, or every problem with them, one per bad field (a caller that lists problems, such
 * as the command line, shows each on its own line).
 */
export function checkBackupSettings(
  input: unknown,
): { settings: BackupSettings } | { problems: string[]; notJson?: string } {
  let value = input ?? {};
  if (typeof value === 'string') {
    try {
      value = value.trim() === '' ? {} : JSON.parse(value);
    } catch (error) {
      const notJson = (error as Error).message;
      return { problems: [`not JSON: ${notJson}`], notJson };
    }
  }
  const result = backupSettingsSchema.safeParse(value);
  if (result.success) return { settings: result.data };
  const known = Object.keys(backupSettingsSchema.shape);
  const problems = result.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => {
          const where = i.path.length > 0 ? `${i.path.join('.')}: ` : '';
          const here = knownKeysAt(i.path) ?? known;
          const list = i.path.length > 0 ? ` (known here: ${here.join(', ')})` : '';
          return `${where}unknown key ${withSuggestion(
            `"${key}"`,
            here.map((k) => `"${k}"`),
          )}${list}`;
        })
      : [`${i.path.join('.') || '(root)'}: ${i.message}`],
  );
  return { problems };
}
