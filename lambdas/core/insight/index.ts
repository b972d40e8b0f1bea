/** The engineer's toolkit over the vault: list snapshots, compare two, follow a record, build a restore input. */
export {
  AUDIT_FIELDS,
  checkSnapshotId,
  type IdSample,
  idKey,
  InvalidInsightRequestError,
  parseSelector,
  type UnrestorableField,
} from './common.ts';
export { type CsvSink, csvField, csvFileName, csvRecord, DiffCsvWriter } from './csv.ts';
export {
  DIFF_KINDS,
  type DiffKind,
  type DiffOptions,
  type DiffRow,
  type DiffSide,
  diffSnapshots,
  type FieldChange,
  type MetadataDiff,
  type ObjectDiff,
  rowDifferences,
  type SnapshotDiff,
} from './diff.ts';
export {
  type HistoryEvent,
  type JournalEvent,
  type RecordHistory,
  type RecordVersion,
  recordHistory,
} from './history.ts';
export { listSnapshots, type SnapshotList, type SnapshotListing } from './list.ts';
export {
  type ChangedGroup,
  changedGroups,
  type DiffPlanChoice,
  type HistoryPlanChoice,
  type PlanChoice,
  planFromDiff,
  planFromHistory,
  type RestoreInput,
} from './plan.ts';
