import type { OrgSettings, OrgUser, WriteCounters } from './api.ts';
import type { FieldIndexes } from './indexes.ts';
import type { OrgStore } from './store.ts';

/** What the write, delete and query helpers share with the org. */
export interface OrgContext {
  readonly store: OrgStore;
  readonly indexes: FieldIndexes;
  readonly settings: OrgSettings;
  readonly counters: WriteCounters;
  readonly user: OrgUser;
  readonly orgId: string;
  now(): Date;
}
