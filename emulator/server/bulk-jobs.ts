import type { QuerySnapshot } from '../org/api.ts';
import { IdFactory } from '../org/ids.ts';
import type { CsvDialect } from './bulk-csv.ts';
import { DEFAULT_GZIP_LEVEL } from './csv-body.ts';
import { ApiError } from './errors.ts';

/** Bulk API 2.0 job states. */
export type JobState = 'Open' | 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Failed' | 'Aborted';

/** Fields every Bulk job has. */
interface JobBase {
  readonly id: string;
  readonly object: string;
  readonly createdById: string;
  readonly createdDate: string;
  systemModstamp: string;
  state: JobState;
  readonly apiVersion: string;
  readonly lineEnding: string;
  readonly columnDelimiter: string;
  readonly dialect: CsvDialect;
  errorMessage?: string;
  totalProcessingTime: number;
}

/** A Bulk API 2.0 query job. */
export interface QueryJob extends JobBase {
  readonly kind: 'query';
  readonly operation: 'query' | 'queryAll';
  readonly soql: string;
  numberRecordsProcessed: number;
  /**
   * The query's rows, frozen when the job completed: every page reads from it, so pages and the
   * count stay as they were while the org changes, and a page fetched again is byte-identical.
   */
  snapshot?: QuerySnapshot;
}

/** One row's outcome in an ingest job. */
export interface IngestRowResult {
  /** Index of the row in the uploaded data. */
  readonly row: number;
  readonly id: string;
  readonly created: boolean;
  readonly error?: string;
}

/** A Bulk API 2.0 ingest job. */
export interface IngestJob extends JobBase {
  readonly kind: 'ingest';
  readonly operation: 'insert' | 'update' | 'upsert' | 'delete' | 'hardDelete';
  readonly externalIdFieldName: string | undefined;
  /** Uploaded CSV files, parsed at UploadComplete. */
  uploads: Buffer[];
  header: string[];
  rows: string[][];
  results: IngestRowResult[];
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  /** Set by the bulk-fail fault when the job was created. */
  readonly failOnProcess: boolean;
}

/** Every Bulk job of the emulator. */
export class BulkJobs {
  private readonly ids = new IdFactory('7r');
  readonly query = new Map<string, QueryJob>();
  readonly ingest = new Map<string, IngestJob>();
  /** Rows per results page when the client sends no `maxRecords`. */
  defaultPageSize = 50_000;
  /** zlib level of gzip-compressed results (0..9). */
  gzipLevel = DEFAULT_GZIP_LEVEL;
  /** While true, new jobs wait in UploadComplete (a control-surface setting for tests of abort). */
  private holding = false;
  private readonly held: (() => void)[] = [];

  /** Runs job processing now, or later when jobs are held. */
  schedule(work: () => void): void {
    if (this.holding) this.held.push(work);
    else setImmediate(work);
  }

  /** Holds new jobs before processing, or releases every held job. */
  setHold(hold: boolean): void {
    this.holding = hold;
    if (!hold) for (const work of this.held.splice(0)) setImmediate(work);
  }

  /** Whether new jobs are held. */
  get hold(): boolean {
    return this.holding;
  }

  /** A fresh job id (`750...`). */
  nextId(): string {
    return this.ids.next('750');
  }

  /** The query job with this id, or Salesforce's NOT_FOUND. */
  queryJob(id: string): QueryJob {
    const job = this.query.get(id);
    if (!job) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  }

  /** The ingest job with this id, or Salesforce's NOT_FOUND. */
  ingestJob(id: string): IngestJob {
    const job = this.ingest.get(id);
    if (!job) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  }
}

/** Salesforce's timestamp format in job info (`2024-01-02T03:04:05.000+0000`). */
export function jobTimestamp(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}
