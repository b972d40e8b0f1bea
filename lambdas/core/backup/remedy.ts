import type { Anomaly } from './anomalies.ts';

/**
 * The restore that reverts one anomaly, from the snapshot before the run that saw it. A remedy is
 * always written as a dry run: someone reads its plan, then switches the mode and confirms the
 * org id (docs/restore.md).
 */

/** Record ids one restore input takes (the restore refuses more; lambdas/core/restore/input.ts). */
export const MAX_IDS_PER_INPUT = 10_000;

/** One restore input, as the restore state machine accepts it. */
export interface RemedyRestoreInput {
  readonly snapshot: string;
  readonly objects: readonly string[];
  readonly records: readonly string[];
  /** `Object.Field`, for a field-level revert only. */
  readonly fields?: readonly string[];
  readonly mode: 'dry-run';
}

/** The mode a remedy's dry run is switched to once its plan is checked. */
export type RemedyMode = 'restore-deleted' | 'revert-changes';

/** What reverts an anomaly. */
export type Remedy =
  | {
      readonly action: 'restore';
      readonly org: string;
      /** One input per 10,000 ids, in the anomaly's id order. */
      readonly inputs: readonly RemedyRestoreInput[];
      readonly thenMode: RemedyMode;
    }
  | {
      readonly action: 'none';
      readonly org: string;
      /** Why no restore reverts it. */
      readonly reason: string;
      /** The rows concerned, for whoever deals with them by hand. */
      readonly ids: readonly string[];
    };

/** The mode that reverts an anomaly of this kind, or undefined when no restore does. */
export function remedyModeOf(kind: Anomaly['kind']): RemedyMode | undefined {
  switch (kind) {
    case 'deleted':
    case 'hardDeleted':
      return 'restore-deleted';
    case 'updated':
    case 'fieldNulled':
    case 'fieldSameValue':
      return 'revert-changes';
    case 'inserted':
    case 'undeleted':
      return undefined;
  }
}

/**
 * The restore inputs that revert exactly `anomaly`: its rows, from `baseSnapshotId` (the snapshot
 * before the run that saw it), one input per 10,000 ids; for a field anomaly, that field only.
 * Inserts and undeletes have none: a restore never deletes rows.
 */
export function remedyInputs(anomaly: Anomaly, context: { org: string; baseSnapshotId: string }): Remedy {
  const { org, baseSnapshotId } = context;
  if (baseSnapshotId.trim() === '') {
    throw new RangeError(
      `no base snapshot for the remedy of ${anomaly.object} (${anomaly.kind}); pass the id of the snapshot before the run that saw the anomaly`,
    );
  }
  const mode = remedyModeOf(anomaly.kind);
  if (mode === undefined) {
    return {
      action: 'none',
      org,
      reason: `a restore never deletes rows, so no restore reverts ${anomaly.kind === 'inserted' ? 'inserted' : 'undeleted'} rows; check them by their ids and delete them in the org if they are unwanted`,
      ids: anomaly.ids,
    };
  }
  if (anomaly.ids.length === 0) {
    return {
      action: 'none',
      org,
      reason: 'the run recorded no ids for these rows, so no restore input can name them',
      ids: [],
    };
  }
  const inputs: RemedyRestoreInput[] = [];
  for (let start = 0; start < anomaly.ids.length; start += MAX_IDS_PER_INPUT) {
    inputs.push({
      snapshot: baseSnapshotId,
      objects: [anomaly.object],
      records: anomaly.ids.slice(start, start + MAX_IDS_PER_INPUT),
      ...(anomaly.field !== undefined ? { fields: [`${anomaly.object}.${anomaly.field}`] } : {}),
      mode: 'dry-run',
    });
  }
  return { action: 'restore', org, inputs, thenMode: mode };
}

/**
 * File names for what a remedy stores, unique per anomaly of a run: `<anomaly key>.<n>.json` per
 * restore input, or `<anomaly key>.ids.txt` for the ids of an anomaly no restore reverts.
 */
export function remedyFileNames(anomaly: Anomaly, remedy: Remedy): string[] {
  const key = anomalyKey(anomaly);
  return remedy.action === 'restore'
    ? remedy.inputs.map((_, index) => `${key}.${index + 1}.json`)
    : [`${key}.ids.txt`];
}

/** A name for an anomaly, unique within a run: `Object.kind` or `Object.Field.kind`. */
export function anomalyKey(anomaly: Anomaly): string {
  return anomaly.field === undefined
    ? `${anomaly.object}.${anomaly.kind}`
    : `${anomaly.object}.${anomaly.field}.${anomaly.kind}`;
}

/** One file a remedy stores: its name (from `remedyFileNames`) and its text. */
export interface RemedyFile {
  readonly name: string;
  readonly body: string;
}

/**
 * The files that hold an anomaly's remedy: each restore input as compact JSON (10,000 ids of 18
 * characters stay under the 256 KB a restore input may take; indented, they would not), or the
 * ids of an anomaly no restore reverts, one per line.
 */
export function remedyFiles(
  anomaly: Anomaly,
  context: { org: string; baseSnapshotId: string },
): RemedyFile[] {
  const remedy = remedyInputs(anomaly, context);
  const names = remedyFileNames(anomaly, remedy);
  if (remedy.action === 'restore') {
    return remedy.inputs.map((input, index) => ({ name: names[index]!, body: JSON.stringify(input) }));
  }
  return [{ name: names[0]!, body: remedy.ids.map((id) => `${id}\n`).join('') }];
}
