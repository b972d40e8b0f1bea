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
import { AUDIT_FIELDS, idKey, InvalidInsightRequestError, NOT_COMPARED } from './common.ts';
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

/** One exact group of changed rows: the rows of one object on which the same wanted fields changed. */
export interface ChangedGroup {
  readonly object: string;
  /** The fields put back, each changed on every row of the group. */
  readonly fields: readonly string[];
  readonly records: readonly string[];
  /** The restore input that puts exactly these fields back on exactly these rows, from A. */
  readonly input: RestoreInput;
}

/** Builds a restore input from a diff: rows deleted since A, or the changed fields of changed rows, restored from A. */
export function planFromDiff(diff: SnapshotDiff, choice: DiffPlanChoice = {}): RestoreInput {
  const { kind, objects } = choiceOf(diff, choice);
  const keep = idFilter(choice);
  if (kind === 'changed') {
    const groups = groupsOf(diff, objects, choice, keep);
    // A restore input puts every field it lists back on every row it lists, so one input is exact
    // only when each object's rows share one set of changed fields.
    const several = objects.filter((d) => groups.filter((g) => g.object === d.object).length > 1);
    if (several.length > 0) {
      const shown = several
        .map((d) => {
          const mine = groups
            .filter((g) => g.object === d.object)
            .sort((x, y) => y.records.length - x.records.length);
          const top = mine
            .slice(0, 5)
            .map((g) => `${g.fields.join(', ')} (${g.records.length} rows)`)
            .join('; ');
          return `${d.object}: ${mine.length} groups: ${top}${mine.length > 5 ? `; and ${mine.length - 5} more` : ''}`;
        })
        .join('. ');
      throw new InvalidInsightRequestError(
        `the changed rows differ in which fields changed, and one restore input would write every field on every row. ${shown}. Narrow the plan: one field at a time (--fields F) gives an exact input, or name the rows (--ids).`,
      );
    }
    const records = groups.flatMap((g) => g.records);
    const fieldRefs = groups.flatMap((g) => g.fields.map((f) => `${g.object}.${f}`));
    checkLimits(records.length, fieldRefs.length);
    return finish(
      {
        snapshot: diff.a.snapshotId,
        objects: groups.map((g) => g.object),
        records,
        fields: fieldRefs,
        mode: 'dry-run',
      },
      choice,
    );
  }
  const records: string[] = [];
  const chosen: string[] = [];
  for (const d of objects) {
    const ids = [...d.deletedToBin.sample, ...d.gone.sample].filter(keep);
    if (ids.length === 0) continue;
    chosen.push(d.object);
    records.push(...ids);
  }
  if (records.length === 0) {
    throw new InvalidInsightRequestError(
      `no deleted row of the diff matches the objects and ids given: run sfbackup diff to see what changed.`,
    );
  }
  checkLimits(records.length, 0);
  return finish({ snapshot: diff.a.snapshotId, objects: chosen, records, mode: 'dry-run' }, choice);
}

/**
 * The changed rows of a diff as exact restore inputs, one per object and set of changed fields:
 * each input puts back only fields that changed on every row it lists. The choice's kind is
 * `changed` whatever it says.
 */
export function changedGroups(diff: SnapshotDiff, choice: DiffPlanChoice = {}): ChangedGroup[] {
  const { objects } = choiceOf(diff, { ...choice, kind: 'changed' });
  return groupsOf(diff, objects, choice, idFilter(choice));
}

function choiceOf(
  diff: SnapshotDiff,
  choice: DiffPlanChoice,
): { kind: 'deleted' | 'changed'; objects: readonly ObjectDiff[] } {
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
  // A plan from a sample would miss the rows the sample left out while looking complete.
  for (const d of objects) {
    for (const s of kind === 'deleted' ? [d.deletedToBin, d.gone] : [d.changed]) {
      if (s.truncated) {
        const wayOut =
          s.count <= MAX_RECORD_IDS && diff.sampleLimit < MAX_RECORD_IDS
            ? `compare again keeping up to ${MAX_RECORD_IDS} ids (sfbackup plan --from-diff does, as does the diff report), or narrow it to fewer objects or ids`
            : `that is more than the ${MAX_RECORD_IDS} record ids a restore input takes: narrow it to fewer objects or ids and restore in several runs, or restore the object whole`;
        throw new InvalidInsightRequestError(
          `the diff kept ${s.sample.length} of ${s.count} ${kind} ids of ${d.object} (its sample limit is ${diff.sampleLimit} ids per kind and object), so a plan from it would miss rows: ${wayOut}.`,
        );
      }
    }
  }
  if (kind === 'changed') {
    for (const d of objects) {
      if (d.changed.details.length < d.changed.sample.length) {
        throw new InvalidInsightRequestError(
          `the diff lists which fields changed for ${d.changed.details.length} of the ${d.changed.sample.length} changed rows of ${d.object} it kept, so a plan from it would miss rows: narrow it to fewer objects or ids.`,
        );
      }
    }
  }
  return { kind, objects };
}

function idFilter(choice: DiffPlanChoice): (id: string) => boolean {
  const wanted = choice.ids ? new Set(choice.ids.map((id) => checkedKey(id))) : undefined;
  return (id) => !wanted || wanted.has(idKey(id) ?? id.toLowerCase());
}

/** The chosen changed rows grouped by object and the exact set of wanted, restorable fields that changed on them. */
function groupsOf(
  diff: SnapshotDiff,
  objects: readonly ObjectDiff[],
  choice: DiffPlanChoice,
  keep: (id: string) => boolean,
): ChangedGroup[] {
  for (const d of objects) refuseUnrestorable(d, choice);
  const out: ChangedGroup[] = [];
  for (const d of objects) {
    const skipped = new Set([...(d.notRestorable ?? []).map((u) => u.field), ...(d.computedFields ?? [])]);
    const byFields = new Map<string, { fields: string[]; records: string[] }>();
    for (const r of d.changed.details) {
      if (!keep(r.id)) continue;
      const fields = r.fields.filter((f) => !skipped.has(f) && fieldWanted(choice, d.object, f)).sort();
      if (fields.length === 0) continue;
      const key = fields.join(',');
      const group = byFields.get(key) ?? { fields, records: [] };
      group.records.push(r.id);
      byFields.set(key, group);
    }
    for (const g of [...byFields.values()].sort((x, y) => y.records.length - x.records.length)) {
      checkLimits(g.records.length, g.fields.length);
      out.push({
        object: d.object,
        fields: g.fields,
        records: g.records,
        input: finish(
          {
            snapshot: diff.a.snapshotId,
            objects: [d.object],
            records: g.records,
            fields: g.fields.map((f) => `${d.object}.${f}`),
            mode: 'dry-run',
          },
          choice,
        ),
      });
    }
  }
  if (out.length === 0) {
    throw new InvalidInsightRequestError(
      'no changed row of the diff has a restorable field that matches the objects, fields and ids given: run sfbackup diff to see what changed.',
    );
  }
  return out;
}

/** Refuses a field asked for by name that a restore from A cannot put back, saying why. */
function refuseUnrestorable(d: ObjectDiff, choice: DiffPlanChoice): void {
  if (!choice.fields) return;
  const reasons = new Map((d.notRestorable ?? []).map((u) => [u.field, u.reason]));
  for (const f of d.computedFields ?? []) if (!reasons.has(f)) reasons.set(f, 'Salesforce computes it');
  const refused = [...reasons].filter(([field]) =>
    choice.fields!.some((f) => f === field || f === `${d.object}.${field}`),
  );
  if (refused.length > 0) {
    throw new InvalidInsightRequestError(
      `a restore cannot put back ${refused.map(([field, why]) => `${d.object}.${field} (${why})`).join(', ')}: leave it out of the fields.`,
    );
  }
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
  const reasons = new Map(target.notRestorable.map((u) => [u.field, u.reason]));
  const computed = new Set(history.versions.flatMap((v) => v.computedChanged));
  // Only fields both versions hold: one added to or removed from the backup in between cannot be compared.
  const moved = Object.keys(target.values)
    .filter((f) => !NOT_COMPARED.has(f) && f in latest.values!)
    .filter((f) => (target.values![f] ?? '') !== (latest.values![f] ?? ''))
    .filter((f) => !AUDIT_FIELDS.has(f) && !computed.has(f));
  const differing = moved.filter((f) => !reasons.has(f));
  if (!choice.fields && differing.length === 0 && moved.length > 0) {
    throw new InvalidInsightRequestError(
      `${history.object} ${history.id} at ${choice.to} differs from its newest version only in fields a restore cannot write: ${moved.map((f) => `${f} (${reasons.get(f)})`).join(', ')}.`,
    );
  }
  const fields = choice.fields
    ? choice.fields.map((f) => (f.includes('.') ? f.split('.').pop()! : f))
    : differing;
  const refused = fields.flatMap((f) => {
    const why = reasons.get(f) ?? (AUDIT_FIELDS.has(f) ? 'Salesforce sets it on every save' : undefined);
    if (why) return [`${f} (${why})`];
    if (!(f in target.values!)) return [`${f} (the version at ${choice.to} holds no such field)`];
    return [];
  });
  if (refused.length > 0) {
    throw new InvalidInsightRequestError(
      `a restore of ${history.object} ${history.id} from ${choice.to} cannot put back ${refused.join(', ')}: leave it out of the fields.`,
    );
  }
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
