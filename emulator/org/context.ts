import type { OrgSettings, OrgUser, WriteCounters } from './api.ts';
import type { ChangeCapture } from './cdc/capture.ts';
import type { FieldIndexes } from './indexes.ts';
import type { OrgStore } from './store.ts';

/** What the write, delete and query helpers share with the org. */
export interface OrgContext {
  readonly store: OrgStore;
  readonly indexes: FieldIndexes;
  /** Told of every row write, for Change Data Capture. */
  readonly changes: ChangeCapture;
  readonly settings: OrgSettings;
  readonly counters: WriteCounters;
  readonly user: OrgUser;
  readonly orgId: string;
  now(): Date;
}
