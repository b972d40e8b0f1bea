/**
 * Restore inputs built from a diff or a record's history, in the shape the restore workflow takes
 * (docs/restore.md): restore from snapshot A the rows the diff found deleted, or put back the
 * fields it found changed. A dry run unless a writing mode is asked for, which then needs the org id.
 */
import {
  MAX_FIELDS,
  MAX_RECORD_IDS,
  parseRestoreInput,
  type RestoreMode,
  writesToOrg,
} from '../restore/input.ts';
import { InvalidRestoreRequestError } from '../restore/errors.ts';
import { AUDIT_FIELDS, idKey, InvalidInsightRequestError } from './common.ts';
import type { ObjectDiff, SnapshotDiff } from './diff.ts';
import type { RecordHistory } from './history.ts';

/** A restore input as the console and `sfbackup restore --input` take it. */
export interface RestoreInput {
  readonly snapshot: string;
  readonly objects: string[];
  readonly records?: string[];
  readonly fields?: string[];
  readonly mode: RestoreMode;
  readonly confirmOrgId?: string;
}

/** What to restore, and how. */
export interface PlanChoice {
  /** The mode of the input. @default 'dry-run' */
  readonly mode?: RestoreMode;
  /** The target org's id; required by every mode but dry-run. */
  readonly confirmOrgId?: string;
}

/** What of a diff to restore from its side A. */
export interface DiffPlanChoice extends PlanChoice {
  /**
   * `deleted`: rows deleted since A (to the recycle bin, or gone); `changed`: the changed fields of
   * changed rows. Required when the diff has both.
   */
  readonly kind?: 'deleted' | 'changed';
  /** Only these objects. */
  readonly objects?: readonly string[];
  /** Only these fields (`Field` or `Object.Field`) of changed rows. */
  readonly fields?: readonly string[];
  /** Only these record ids (15 or 18 characters). */
  readonly ids?: readonly string[];
}

/** Which version of a record to go back to. */
export interface HistoryPlanChoice extends PlanChoice {
  /** The snapshot whose version to restore. */
  readonly to: string;
  /** Only these fields (default: every field that differs from the latest version). */
  readonly fields?: readonly string[];
}

function finish(input: RestoreInput, choice: PlanChoice): RestoreInput {
  const mode = choice.mode ?? 'dry-run';
  if (writesToOrg(mode) && !choice.confirmOrgId) {
    throw new InvalidInsightRequestError(
      `mode ${mode} writes to the org, so the plan needs the target org's id: give it (Setup > Company Information), or leave the mode at dry-run.`,
    );
  }
  const out: RestoreInput = {
    ...input,
    mode,
    ...(writesToOrg(mode) && choice.confirmOrgId ? { confirmOrgId: choice.confirmOrgId } : {}),
  };
  try {
    parseRestoreInput(out);
  } catch (error) {
    if (error instanceof InvalidRestoreRequestError) {
      throw new InvalidInsightRequestError(`the plan is not a valid restore input: ${error.message}`);
    }
    throw error;
  }
  return out;
}

function checkLimits(ids: number, fields: number): void {
  if (ids > MAX_RECORD_IDS) {
    throw new InvalidInsightRequestError(
      `the plan would list ${ids} record ids; a restore input takes at most ${MAX_RECORD_IDS}: narrow it by object, by fields or by ids, and restore in several runs.`,
    );
  }
  if (fields > MAX_FIELDS) {
    throw new InvalidInsightRequestError(
      `the plan would list ${fields} fields; a restore input takes at most ${MAX_FIELDS}: name the fields to put back.`,
    );
  }
}

/** Builds a restore input from a diff: rows deleted since A, or the changed fields of changed rows, restored from A. */
export function planFromDiff(diff: SnapshotDiff, choice: DiffPlanChoice = {}): RestoreInput {
  let objects: readonly ObjectDiff[] = diff.objects;
  if (choice.objects) {
    const unknown = choice.objects.filter((o) => !diff.objects.some((d) => d.object === o));
    if (unknown.length > 0) {
      throw new InvalidInsightRequestError(
        `the diff compared no object ${unknown.join(', ')}: give one of ${diff.objects.map((d) => d.object).join(', ')}.`,
      );
    }
    objects = diff.objects.filter((d) => choice.objects!.includes(d.object));
  }
  const wanted = choice.ids ? new Set(choice.ids.map((id) => checkedKey(id))) : undefined;
  const keep = (id: string): boolean => !wanted || wanted.has(idKey(id) ?? id.toLowerCase());
  const deleted = objects.flatMap((d) => [d.deletedToBin, d.gone]);
  const hasDeleted = deleted.some((s) => s.count > 0);
  const hasChanged = objects.some((d) => d.changed.count > 0);
  const kind =
    choice.kind ??
    (hasDeleted && !hasChanged ? 'deleted' : !hasDeleted && hasChanged ? 'changed' : undefined);
  if (!kind) {
    throw new InvalidInsightRequestError(
      hasDeleted
        ? 'the diff found both deleted and changed rows: choose one plan (deleted rows, or changed fields).'
        : `the diff of ${diff.a.snapshotId} and ${diff.b.snapshotId} found no deleted or changed row to restore.`,
    );
  }
  const lists = objects.map((d) => ({
    object: d.object,
    samples: kind === 'deleted' ? [d.deletedToBin, d.gone] : [d.changed],
  }));
  for (const { object, samples } of lists) {
    for (const s of samples) {
      if (s.truncated) {
        throw new InvalidInsightRequestError(
          `the diff kept ${s.sample.length} of ${s.count} ${kind} ids of ${object}: a restore input takes at most ${MAX_RECORD_IDS}; narrow it by object or ids, or restore the object whole.`,
        );
      }
    }
  }
  const records: string[] = [];
  const chosen: string[] = [];
  const fieldRefs: string[] = [];
  for (const d of objects) {
    const ids =
      kind === 'deleted'
        ? [...d.deletedToBin.sample, ...d.gone.sample].filter(keep)
        : d.changed.details
            .filter((r) => keep(r.id) && r.fields.some((f) => fieldWanted(choice, d.object, f)))
            .map((r) => r.id);
    if (ids.length === 0) continue;
    chosen.push(d.object);
    records.push(...ids);
    if (kind === 'changed') {
      for (const { field } of d.changed.fields) {
        if (fieldWanted(choice, d.object, field)) fieldRefs.push(`${d.object}.${field}`);
      }
    }
  }
  if (records.length === 0) {
    throw new InvalidInsightRequestError(
      `no ${kind} row of the diff matches the objects, fields and ids given: run sfbackup diff to see what changed.`,
    );
  }
  checkLimits(records.length, fieldRefs.length);
  return finish(
    {
      snapshot: diff.a.snapshotId,
      objects: chosen,
      records,
      ...(kind === 'changed' ? { fields: fieldRefs } : {}),
      mode: 'dry-run',
    },
    choice,
  );
}

function fieldWanted(choice: DiffPlanChoice, object: string, field: string): boolean {
  if (!choice.fields) return true;
  return choice.fields.some((f) => f === field || f === `${object}.${field}`);
}

function checkedKey(id: string): string {
  const key = idKey(id);
  if (!key) throw new InvalidInsightRequestError(`"${id}" is not a record id: give 15- or 18-character ids.`);
  return key;
}

/**
 * Builds a restore input that puts one record back as it was at `choice.to`: the fields that differ
 * from its newest version (or the ones named), or the whole row when it has been deleted since.
 */
export function planFromHistory(history: RecordHistory, choice: HistoryPlanChoice): RestoreInput {
  const target = history.versions.find((v) => v.snapshotId === choice.to);
  if (!target) {
    throw new InvalidInsightRequestError(
      `${history.object} ${history.id} has no version in snapshot ${choice.to}: give one of ${history.versions.map((v) => v.snapshotId).join(', ')}.`,
    );
  }
  if (!target.values) {
    throw new InvalidInsightRequestError(
      `${history.object} ${history.id} was ${target.event} by snapshot ${choice.to}: choose a snapshot that holds a version of it.`,
    );
  }
  const latest = history.versions.at(-1)!;
  if (latest.values === null || latest.inRecycleBin) {
    // Deleted since: the whole row comes back from the chosen version.
    return finish(
      { snapshot: choice.to, objects: [history.object], records: [history.id], mode: 'dry-run' },
      choice,
    );
  }
  const differing = Object.keys(target.values)
    .filter((f) => f !== 'Id' && f !== 'IsDeleted' && (target.values![f] ?? '') !== (latest.values![f] ?? ''))
    .filter((f) => !AUDIT_FIELDS.has(f));
  const fields = choice.fields
    ? choice.fields.map((f) => (f.includes('.') ? f.split('.').pop()! : f))
    : differing;
  if (fields.length === 0) {
    throw new InvalidInsightRequestError(
      `${history.object} ${history.id} at ${choice.to} holds the same values as its newest version (${latest.snapshotId}): there is nothing to put back.`,
    );
  }
  return finish(
    {
      snapshot: choice.to,
      objects: [history.object],
      records: [history.id],
      fields: fields.map((f) => `${history.object}.${f}`),
      mode: 'dry-run',
    },
    choice,
  );
}
