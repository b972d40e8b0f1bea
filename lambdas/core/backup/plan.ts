import { ErrorName } from '../../../contract/workflow-contract.ts';
import { newSnapshotId, objectSpecKey, planDetailKey, planKey } from '../snapshot/keys.ts';
import type { SnapshotField } from '../snapshot/manifest.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import type { FieldDescribe, GlobalObject, ObjectDescribe } from '../salesforce.ts';
import { nearestName, withSuggestion } from './nearest-name.ts';
import type { BackupSettings } from './settings.ts';
import type { BackupDeps, BackupRequest, ObjectSpec, PlanDetail, PlanOutput } from './types.ts';

/** Objects that Salesforce only lets you query with a filter on a parent id, or that hold no data of their own. */
const NEEDS_FILTER = new Map<string, string>([
  ['ContentDocumentLink', 'queries need a filter on ContentDocumentId or LinkedEntityId'],
  ['ContentFolderItem', 'queries need a filter on ParentContentFolderId'],
  ['IdeaComment', 'queries need a filter on IdeaId'],
  ['Vote', 'queries need a filter on ParentId'],
  ['UserRecordAccess', 'queries need a filter on UserId and RecordId'],
]);

/** Field types Bulk queries refuse, exported as their components instead. */
const COMPOUND_TYPES = new Set(['address', 'location']);

/** The org behind the credentials is not the org whose snapshots the vault holds under this name. */
export class BackupOrgMismatchError extends Error {
  override readonly name = ErrorName.BackupOrgMismatch;
}

/**
 * The settings name objects the org does not have: an included object (the run would back up less
 * than asked), or an excluded one whose name is close to a real one (the object meant to be left
 * out would be backed up).
 */
export class UnknownBackupObjectsError extends Error {
  override readonly name = ErrorName.UnknownBackupObjects;
}

/** Plans a run: what to export and how, written to the vault; returns keys and counts for the state. */
export async function planBackup(
  deps: BackupDeps,
  request: BackupRequest,
  settings: BackupSettings,
): Promise<PlanOutput> {
  const { store, source } = deps;
  const started = deps.clock();
  const callsBefore = source.apiCalls();
  const snapshotId = newSnapshotId(started, deps.random);
  const reader = new SnapshotReader(store);

  const identity = await source.identity();
  const latest = await reader.latestComplete(request.org);
  if (latest && latest.orgId !== identity.orgId) {
    throw new BackupOrgMismatchError(
      `The vault holds snapshots of org ${latest.orgId} under "${request.org}", but the credentials are for org ${identity.orgId}. Use another org name or fix the secret.`,
    );
  }
  const latestData =
    request.mode === 'incremental' ? await reader.latestComplete(request.org, { data: true }) : undefined;
  const base = latestData ? await reader.manifest(request.org, latestData.snapshotId) : null;
  const metadataOnly = request.mode === 'metadata';
  const mode = metadataOnly ? 'metadata' : base ? 'incremental' : 'full';
  // SOQL takes whole seconds; rounding down only widens the window.
  const since = base
    ? soqlDateTime(new Date(new Date(base.watermark).getTime() - settings.overlapSeconds * 1000))
    : null;

  const limits = await source.limits();
  const skipped: { name: string; reason: string }[] = [];
  const candidates = metadataOnly
    ? []
    : chooseObjects(request.org, await source.describeGlobal(), settings, skipped);

  // An incremental run describes and exports only what changed: COUNT() of rows modified since the
  // base watermark, 25 objects per Composite call, finds the objects that did not.
  const unchanged: { name: string; fields: SnapshotField[] }[] = [];
  let toDescribe = candidates;
  if (base && since) {
    const countable = candidates.filter((name) =>
      base.objects.some((o) => o.name === name && o.fields.some((f) => f.name === 'SystemModstamp')),
    );
    const changes = await source.countRows(
      countable.map((name) => ({
        key: name,
        soql: `SELECT COUNT() FROM ${name} WHERE SystemModstamp > ${since}`,
      })),
    );
    toDescribe = candidates.filter((name) => {
      if (changes.get(name) !== 0) return true;
      const fields = base.objects.find((o) => o.name === name)!.fields;
      unchanged.push({ name, fields });
      return false;
    });
  }

  const describes = toDescribe.length > 0 ? await source.describeObjects(toDescribe) : [];
  const specs: ObjectSpec[] = [];
  for (const describe of describes) {
    const spec = specFor(describe, since);
    if (spec) specs.push(spec);
    else skipped.push({ name: describe.name, reason: 'describe lists no queryable fields' });
  }

  let counts = new Map<string, number>();
  if (mode === 'full') {
    counts = await source.countRows(
      specs.map((s) => ({ key: s.name, soql: `SELECT COUNT() FROM ${s.name}` })),
    );
  }

  // Deferral: a run that would spend more than its share of the daily allowance does not start.
  const estimate = estimateCalls(specs, counts, settings);
  const allowed = Math.min(
    limits.dailyApiRequests.remaining,
    Math.floor(limits.dailyApiRequests.max * settings.apiShare),
  );
  const deferred = estimate > allowed;
  const deferredReason = deferred
    ? `Backup of org ${request.org} deferred: it needs about ${estimate} API calls, but only ${allowed} may be spent now (${limits.dailyApiRequests.remaining} of ${limits.dailyApiRequests.max} remaining today, run share ${settings.apiShare}). It will run at the next schedule; raise apiShare or run it later by hand.`
    : '';

  const runId = request.runId ?? `local-${snapshotId}`;
  const withCounts = specs.map((s) => (counts.has(s.name) ? { ...s, countAtStart: counts.get(s.name)! } : s));
  if (!deferred) {
    for (const spec of withCounts) {
      await store.put(objectSpecKey(request.org, snapshotId, spec.name), JSON.stringify(spec), {
        contentType: 'application/json',
      });
    }
  }
  const detail: PlanDetail = {
    org: request.org,
    orgId: identity.orgId,
    apiVersion: source.apiVersion,
    snapshotId,
    runId,
    mode,
    requestedMode: request.mode,
    baseSnapshotId: base?.snapshotId ?? null,
    startedAt: started.toISOString(),
    watermark: started.toISOString(),
    since,
    settings,
    metadata: metadataOnly || (request.metadata ?? (settings.metadata && mode === 'full')),
    exported: withCounts.map((s) =>
      s.countAtStart === undefined ? { name: s.name } : { name: s.name, countAtStart: s.countAtStart },
    ),
    unchanged,
    skipped,
    apiCalls: source.apiCalls() - callsBefore,
    apiBudget: allowed,
  };
  const key = planKey(request.org, snapshotId);
  await store.put(planDetailKey(request.org, snapshotId), JSON.stringify(detail), {
    contentType: 'application/json',
  });
  await store.put(key, JSON.stringify(deferred ? [] : withCounts.map((s) => ({ object: s.name }))), {
    contentType: 'application/json',
  });
  return {
    org: request.org,
    snapshotId,
    planKey: key,
    mode,
    objectsToExport: deferred ? 0 : withCounts.length,
    objectsUnchanged: unchanged.length,
    deferred,
    deferredReason,
  };
}

function chooseObjects(
  org: string,
  objects: readonly GlobalObject[],
  settings: BackupSettings,
  skipped: { name: string; reason: string }[],
): string[] {
  checkNamedObjects(org, objects, settings, skipped);
  const include = new Set(settings.includeObjects.map((n) => n.toLowerCase()));
  const exclude = new Set(settings.excludeObjects.map((n) => n.toLowerCase()));
  const chosen: string[] = [];
  for (const object of objects) {
    const lower = object.name.toLowerCase();
    if (include.size > 0 && !include.has(lower)) continue;
    if (exclude.has(lower)) skipped.push({ name: object.name, reason: 'excluded by the configuration' });
    else if (!object.queryable) skipped.push({ name: object.name, reason: 'not queryable' });
    else if (!object.retrieveable) skipped.push({ name: object.name, reason: 'not retrieveable' });
    else if (object.deprecatedAndHidden) skipped.push({ name: object.name, reason: 'deprecated and hidden' });
    else if (NEEDS_FILTER.has(object.name))
      skipped.push({ name: object.name, reason: NEEDS_FILTER.get(object.name)! });
    else chosen.push(object.name);
  }
  return chosen.sort();
}

/**
 * Every object the settings name must exist in the org. An unknown included object fails the run:
 * an empty or partial snapshot marked complete would hide it. An unknown excluded object fails the
 * run when a real object's name is close (a misspelling, so the object meant to be left out would be
 * backed up); one with no close name (an object since deleted from the org) is only noted.
 */
function checkNamedObjects(
  org: string,
  objects: readonly GlobalObject[],
  settings: BackupSettings,
  skipped: { name: string; reason: string }[],
): void {
  const names = objects.map((o) => o.name);
  const known = new Set(names.map((n) => n.toLowerCase()));
  const missing = (list: readonly string[]) => list.filter((n) => !known.has(n.toLowerCase()));
  const problems: string[] = [];
  const include = missing(settings.includeObjects);
  if (include.length > 0) {
    problems.push(`included but not in the org: ${include.map((n) => withSuggestion(n, names)).join(', ')}`);
  }
  const exclude = missing(settings.excludeObjects);
  const misspelt = exclude.filter((n) => nearestName(n, names) !== undefined);
  if (misspelt.length > 0) {
    problems.push(
      `excluded but not in the org, so the object meant may be backed up: ${misspelt.map((n) => withSuggestion(n, names)).join(', ')}`,
    );
  }
  for (const name of exclude.filter((n) => !misspelt.includes(n))) {
    skipped.push({ name, reason: 'excluded by the configuration; the org has no such object' });
  }
  if (problems.length > 0) {
    throw new UnknownBackupObjectsError(
      `The backup settings of org ${org} name objects the org does not have (${problems.join('; ')}). Nothing was backed up. Correct the object API names in the org's objects.include and objects.exclude in the config (or the settings given to the CLI) and run again.`,
    );
  }
}

function specFor(describe: ObjectDescribe, since: string | null): ObjectSpec | undefined {
  const fields = describe.fields.map(toSnapshotField);
  const columns = fields.filter((f) => f.inCsv).map((f) => f.name);
  if (columns.length === 0) return undefined;
  const hasModstamp = columns.includes('SystemModstamp');
  return {
    name: describe.name,
    api: 'bulk',
    fields,
    columns,
    since: hasModstamp ? since : null,
  };
}

function toSnapshotField(field: FieldDescribe): SnapshotField {
  const out: SnapshotField = {
    name: field.name,
    type: field.type,
    nillable: field.nillable,
    createable: field.createable,
    updateable: field.updateable,
    externalId: field.externalId,
    calculated: field.calculated,
    inCsv: field.type !== 'base64' && !COMPOUND_TYPES.has(field.type),
  };
  if (field.referenceTo.length > 0) out.referenceTo = [...field.referenceTo];
  if (field.relationshipName) out.relationshipName = field.relationshipName;
  return out;
}

function estimateCalls(
  specs: readonly ObjectSpec[],
  counts: Map<string, number>,
  settings: BackupSettings,
): number {
  let calls = 0;
  for (const spec of specs) {
    const rows = counts.get(spec.name) ?? settings.pageSize;
    calls += 3 + Math.ceil(rows / settings.pageSize);
  }
  return calls + Math.ceil(specs.length / 25);
}

/** A SOQL dateTime literal (whole seconds, UTC), rounded down. */
export function soqlDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
