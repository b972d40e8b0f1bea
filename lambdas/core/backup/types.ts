import type { BackupSettings } from './settings.ts';
import type {
  SkippedObject,
  SkipReason,
  SnapshotField,
  SnapshotFile,
  SnapshotMetadataPart,
  SnapshotPart,
  WatermarkField,
} from '../snapshot/manifest.ts';
import type { ExportStrategy } from './special-objects.ts';
import type { SalesforceSource } from '../salesforce.ts';
import type { BackupStore } from '../store.ts';

/** What every step of the core is given. */
export interface BackupDeps {
  readonly store: BackupStore;
  readonly source: SalesforceSource;
  readonly clock: () => Date;
  readonly random?: () => number;
  /** Waits between polls; tests pass a no-op. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Scratch directory for file bodies while they are hashed. */
  readonly tmpDir?: string;
}

/** The workflow's input, as the schedules and the console start it. */
export interface BackupRequest {
  readonly org: string;
  /** metadata: retrieve metadata only, no rows or files. */
  readonly mode: 'full' | 'incremental' | 'metadata';
  /** Retrieve metadata in this run (default: on full runs, when the settings allow it). */
  readonly metadata?: boolean;
  readonly runId?: string;
}

/** What the plan step leaves in the state: keys and counts only. */
export interface PlanOutput {
  readonly org: string;
  readonly snapshotId: string;
  readonly planKey: string;
  readonly mode: 'full' | 'incremental' | 'metadata';
  readonly objectsToExport: number;
  readonly objectsUnchanged: number;
  readonly deferred: boolean;
  /** Why the run was deferred, for the alert; empty otherwise. */
  readonly deferredReason: string;
}

/** One object's export instructions, stored at plan time. */
export interface ObjectSpec {
  readonly name: string;
  readonly api: 'bulk' | 'rest';
  readonly fields: SnapshotField[];
  /** Column names selected, in order. */
  readonly columns: string[];
  /** Lower bound on `watermarkField` (incremental runs), null for every row. */
  readonly since: string | null;
  /** The field changes are read by; null when the object has none (exported in full every run). Absent in plans written before it existed: SystemModstamp. */
  readonly watermarkField?: WatermarkField | null;
  /** How rows are selected; absent in plans written before it existed: all. */
  readonly strategy?: ExportStrategy;
  /** The settings name the object in includeObjects: a refusal fails the run instead of skipping it. */
  readonly includedByName?: boolean;
  /** The previous complete data snapshot held the object: a refusal fails the run instead of skipping it. */
  readonly heldBefore?: boolean;
  readonly countAtStart?: number;
  /** Ids the delete log lists as deleted in the window (incrementals), written at plan time. */
  readonly tombstones?: SnapshotPart;
  /** Why an incremental reads every row of this object: its delete log cannot cover the window. */
  readonly fullReason?: string;
  /**
   * Continuous orgs: when the journal's writer received the newest gap, overflow or wildcard event
   * of this object the run serves; the run reads the object in full, which settles every one
   * received by then.
   */
  readonly journalSettled?: string;
}

/** Everything the plan decided, stored in the vault for the later steps. */
export interface PlanDetail {
  readonly org: string;
  readonly orgId: string;
  /** The user the credentials sign in as: the one a restore of the org writes as too. */
  readonly userId?: string;
  readonly apiVersion: string;
  readonly snapshotId: string;
  readonly runId: string;
  readonly mode: 'full' | 'incremental' | 'metadata';
  readonly requestedMode: 'full' | 'incremental' | 'metadata';
  readonly baseSnapshotId: string | null;
  readonly startedAt: string;
  readonly watermark: string;
  readonly since: string | null;
  /** Why a run asked to be incremental is a full one. */
  readonly fullReason?: string;
  /** A break in the change-event journal this run was made full for (continuous orgs). */
  readonly journalBreak?: { readonly from: string; readonly to: string; readonly reason: string };
  /** Objects whose change events are on the relay's channel; absent when the org is not continuous. */
  readonly continuousObjects?: readonly string[];
  /** What the plan could not check and did not fail for. */
  readonly warnings?: readonly string[];
  /** Continuous orgs: the relay relays nothing; this warning (one of `warnings`) is alerted too. */
  readonly relayDown?: string;
  readonly settings: BackupSettings;
  readonly metadata: boolean;
  readonly exported: { name: string; countAtStart?: number }[];
  readonly unchanged: { name: string; fields: SnapshotField[]; watermarkField?: WatermarkField | null }[];
  readonly skipped: SkippedObject[];
  readonly apiCalls: number;
  /** API calls the whole run may spend: its share of the daily allowance, capped by what remains. */
  readonly apiBudget: number;
}

/** Where an unfinished export resumes. */
export interface ExportCheckpoint {
  readonly api: 'bulk' | 'rest';
  readonly jobId: string | null;
  /** True while the Bulk job is still running: the next invocation waits for it instead of creating one. */
  readonly jobPending?: boolean;
  /** Fresh jobs created after a job failed while it was awaited across invocations. */
  readonly jobRestarts?: number;
  /** Bulk locator or REST nextRecordsUrl of the next page; null before the first page. */
  readonly locator: string | null;
  readonly nextPart: number;
  readonly segment: number;
  /** Attempt ids of the segments written so far, in order: exactly the invocations whose parts count. */
  readonly segments: string[];
  readonly apiCalls: number;
  /** Index of the filtered query under way (per-parent and per-status strategies). */
  readonly clause?: number;
  /** Per-parent strategy: how far the parent ids are read; the export starts once they all are. */
  readonly parents?: ParentReading;
  /** Set once the job's result pages are listed for workers: the next invocation gathers their results. */
  readonly pages?: PagesRef;
}

/** A job's result pages, listed for workers. */
export interface PagesRef {
  /** Id of the list (`objects/<object>/pages-<list>.json`). */
  readonly list: string;
  readonly pages: number;
  readonly workers: number;
}

/** The stored list of a job's result pages. */
export interface ResultPagesList {
  readonly jobId: string;
  /** Rows the job processed, which the pages must add up to. */
  readonly rows: number;
  /** Result URLs, in order: page n is `urls[n]`. */
  readonly urls: readonly string[];
  readonly workers: number;
}

/** One worker's place in an object's parallel export. */
export interface WorkerRef {
  readonly list: string;
  /** From 0. */
  readonly index: number;
  readonly of: number;
}

/** Where a worker's unfinished share resumes. */
export interface WorkerProgress {
  /** Position in the worker's own pages of the next page to export. */
  readonly position: number;
  readonly segment: number;
  /** Attempt ids of the segments written so far, in order. */
  readonly segments: readonly string[];
  readonly apiCalls: number;
}

/** Input of one worker invocation (an item of the object's worker Map, then its loop). */
export interface WorkerInput {
  readonly org: string;
  readonly snapshotId: string;
  readonly object: string;
  readonly worker: WorkerRef;
  readonly progress?: WorkerProgress | null;
}

/** Output of one worker invocation. */
export interface WorkerOutput {
  readonly org: string;
  readonly snapshotId: string;
  readonly object: string;
  readonly worker: WorkerRef;
  readonly done: boolean;
  readonly progress: WorkerProgress | null;
  readonly rowsWritten?: number;
  readonly bytesWritten?: number;
}

/** One page and the part it became. */
export interface WorkerPage {
  /** From 0, in the list's order. */
  readonly page: number;
  readonly part: SnapshotPart;
}

/** Everything one worker exported (written once). */
export interface WorkerResult {
  readonly worker: number;
  readonly of: number;
  readonly pages: readonly WorkerPage[];
  readonly deletedRows: number;
  readonly deletedIds: readonly string[];
  readonly apiCalls: number;
}

/** How far a per-parent export has read its parent's ids, each batch kept as one numbered filter file. */
export interface ParentReading {
  /** Filter files written so far, numbered from 1. */
  readonly files: number;
  /** The last parent id the files cover; the next read starts after it. Null before the first. */
  readonly after: string | null;
  /** True once every parent id is in a file. */
  readonly done: boolean;
}

/** Input of one export invocation (a Distributed Map item, then the loop). */
export interface ExportInput {
  readonly org: string;
  readonly snapshotId: string;
  readonly object: string;
  readonly checkpoint?: ExportCheckpoint | null;
}

/** Output of one export invocation. */
export interface ExportOutput {
  readonly org: string;
  readonly snapshotId: string;
  readonly object: string;
  readonly done: boolean;
  readonly checkpoint: ExportCheckpoint | null;
  /** Set when the object's pages are to be exported by workers: one Map item per worker. */
  readonly parallel?: { readonly workers: readonly WorkerRef[] };
  /** Rows and stored bytes this invocation wrote, for metrics. */
  readonly rowsWritten?: number;
  readonly bytesWritten?: number;
}

/** Parts one invocation wrote. */
export interface ExportSegment {
  readonly segment: number;
  readonly parts: SnapshotPart[];
  readonly deletedRows: number;
  readonly deletedIds: string[];
}

/** The outcome of one object, written once to the vault. */
export interface ObjectResult {
  readonly object: string;
  /** skipped: Salesforce refused the object for good, and the settings did not name it. */
  readonly status: 'exported' | 'failed' | 'skipped';
  readonly api: 'bulk' | 'rest';
  readonly rows: number;
  readonly deletedRows: number;
  readonly deletedIds: string[];
  readonly bytes: number;
  readonly parts: SnapshotPart[];
  readonly apiCalls: number;
  readonly error?: string;
  /** Why a skipped object was skipped. */
  readonly skip?: { readonly reasonCode: SkipReason; readonly reason: string };
}

/** One file to fetch or reuse. */
export interface FileTask {
  readonly object: 'ContentVersion' | 'Attachment' | 'Document';
  readonly recordId: string;
  readonly field: 'VersionData' | 'Body';
  readonly indexId: string;
  readonly md5?: string;
}

/** The outcome of one files batch. */
export interface FilesResult {
  readonly batch: number;
  readonly files: SnapshotFile[];
  readonly apiCalls: number;
  readonly errors: string[];
}

/** The outcome of one metadata retrieve. */
export interface MetadataResult {
  readonly chunk: number;
  readonly parts: SnapshotMetadataPart[];
  readonly apiCalls: number;
}

/** What the finish step leaves in the state (and the CLI prints). */
export interface FinishOutput {
  readonly org: string;
  readonly snapshotId: string;
  readonly status: 'complete' | 'failed';
  readonly mode: 'full' | 'incremental' | 'metadata';
  readonly objects: number;
  readonly rows: number;
  readonly files: number;
  readonly filesDownloaded: number;
  readonly metadataComponents: number;
  readonly apiCalls: number;
  /** What is missing or wrong, at most 20 lines (the manifest has all). */
  readonly problems: string[];
  /** SNS text for a failed run, or empty. */
  readonly failureMessage: string;
  /** SNS text for deletes/changes over the thresholds, or empty. */
  readonly anomalyMessage: string;
  readonly hasAnomalies: boolean;
  /** Why a run asked to be incremental ran as a full one; empty otherwise. */
  readonly fullReason: string;
  /** What the run could not check and did not fail for (the manifest's warnings); absent when none. */
  readonly warnings?: readonly string[];
  /** Objects the snapshot leaves out (the manifest's skippedObjects lists each with why). */
  readonly objectsSkipped: number;
  /** Of those, the ones the previous complete snapshot did not leave out (`firstTime` in the manifest). */
  readonly objectsNewlySkipped: number;
}
