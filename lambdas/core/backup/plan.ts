import { backupEnded, startBackupRun } from '../vault-lease.ts';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import { newSnapshotId, objectSpecKey, planDetailKey, planKey } from '../snapshot/keys.ts';
import type { SkippedObject, SnapshotField, SnapshotManifest, WatermarkField } from '../snapshot/manifest.ts';
import { SnapshotReader } from '../snapshot/reader.ts';
import { nearestName, withSuggestion } from './nearest-name.ts';
import type { BackupSettings } from './settings.ts';
import {
  decideObject,
  encodedLength,
  type ExportStrategy,
  excludedByConfiguration,
  REST_QUERY_MAX_ENCODED,
  watermarkFieldOf,
} from './special-objects.ts';
import { PARENT_PAGE } from './parent-filters.ts';
import { journalArrivals, rereadsSince } from '../continuous/journal.ts';
import { type JournalBreak, relayBreak, relayOutage } from '../continuous/relay-health.ts';
import {
  type EventRelayReport,
  type FieldDescribe,
  type GlobalObject,
  type ObjectDescribe,
  SalesforceQueryError,
  SalesforceRequestError,
} from '../salesforce.ts';
import {
  type DeleteLogReading,
  deleteLogStart,
  readDeleteLog,
  replicationGap,
  writeTombstones,
} from './delete-log.ts';
import type { BackupDeps, BackupRequest, ObjectSpec, PlanDetail, PlanOutput } from './types.ts';

/**
 * Why an object read per parent (ContentDocumentLink) is read in full on every run: it keeps no
 * delete log, so only a full read sees a link that was removed, and one added to an old document
 * is read either way.
 */
const PER_PARENT_IN_FULL =
  'it keeps no delete log, so every run reads it whole: a removed row leaves the view at the next run';

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

/** The settings include objects by name that Salesforce says cannot be read. */
export class IncludedObjectRefusedError extends Error {
  override readonly name = ErrorName.IncludedObjectRefused;
}

/**
 * Plans a run: what to export and how, written to the vault; returns keys and counts for the state.
 * Refused before anything is written while an erasure holds the org's vault lease (vault-lease.ts);
 * a run that ends here without a catalog entry (deferred, failed) says so, so no erasure waits for it.
 */
export async function planBackup(
  deps: BackupDeps,
  request: BackupRequest,
  settings: BackupSettings,
): Promise<PlanOutput> {
  const started = deps.clock();
  const snapshotId = newSnapshotId(started, deps.random);
  await startBackupRun(deps.store, request.org, snapshotId, started.getTime());
  const ended = () => backupEnded(deps.store, request.org, snapshotId, deps.clock().getTime());
  let out: PlanOutput;
  try {
    out = await planRun(deps, request, settings, started, snapshotId);
  } catch (error) {
    await ended().catch(() => undefined);
    throw error;
  }
  if (out.deferred) await ended();
  return out;
}

async function planRun(
  deps: BackupDeps,
  request: BackupRequest,
  settings: BackupSettings,
  started: Date,
  snapshotId: string,
): Promise<PlanOutput> {
  const { store, source } = deps;
  const callsBefore = source.apiCalls();
  const reader = new SnapshotReader(store);

  const identity = await source.identity();
  const latest = await reader.latestComplete(request.org);
  if (latest && latest.orgId !== identity.orgId) {
    throw new BackupOrgMismatchError(
      `The vault holds snapshots of org ${latest.orgId} under "${request.org}", but the credentials are for org ${identity.orgId}. Use another org name or fix the secret.`,
    );
  }
  const metadataOnly = request.mode === 'metadata';
  const latestData = metadataOnly ? undefined : await reader.latestComplete(request.org, { data: true });
  const previous = latestData ? await reader.manifest(request.org, latestData.snapshotId) : null;
  let base = request.mode === 'incremental' ? previous : null;
  // Objects the previous complete data snapshot held: Salesforce refusing one now fails the run.
  const heldBefore = new Set(previous?.objects.filter((o) => o.status !== 'failed').map((o) => o.name));
  // An incremental whose window is longer than Salesforce keeps its delete log could miss deletes:
  // the run is a full one instead, and says why.
  let fullReason: string | undefined;
  if (base) {
    fullReason = replicationGap(base.snapshotId, sinceOf(base, settings), started);
    if (fullReason) base = null;
  }
  // Continuous protection: a relay outage longer than Salesforce keeps change events left a hole in
  // the journal; the run reads everything so the vault is whole again, once per break.
  const continuity =
    settings.continuous && !metadataOnly
      ? await readContinuity(deps, request.org, settings.continuous.partnerEventSource, started)
      : undefined;
  let journalBreak: JournalBreak | undefined;
  if (continuity?.break && !(await breakRecorded(reader, request.org, continuity.break))) {
    journalBreak = continuity.break;
    if (base || fullReason) {
      // Named beside any other reason the run is full, so the alert says both.
      const said = `the change-event journal has a break: ${journalBreak.reason.replace(/\.$/, '')}`;
      fullReason = fullReason ? `${fullReason}; and ${said}` : said;
      base = null;
    }
  }
  const mode = metadataOnly ? 'metadata' : base ? 'incremental' : 'full';
  // SOQL takes whole seconds; rounding down only widens the window.
  const since = base ? soqlDateTime(sinceOf(base, settings)) : null;
  // The delete log is read from the whole minute at or before it (and over a few minutes at
  // least); what it lists before `since` the base has already seen (see `deletesSince`).
  const windowStart = base ? deleteLogStart(sinceOf(base, settings), started) : null;

  const limits = await source.limits();
  const skipped: SkippedObject[] = [];
  const candidates = metadataOnly
    ? new Map<string, Candidate>()
    : chooseObjects(request.org, await source.describeGlobal(), settings, skipped);

  // An incremental run describes and exports only what changed: COUNT() of rows modified since the
  // base watermark, by each object's watermark field, 25 objects per Composite call, finds the
  // objects that did not. Objects without a watermark field, and those only read by filtered
  // queries (COUNT() of them is refused too), are exported again.
  const unchanged: PlanDetail['unchanged'] = [];
  // Parent objects' row counts, for the call estimate of objects read per parent.
  const parentCounts = new Map<string, number>();
  let toDescribe = [...candidates.keys()];
  const inBase = (name: string) =>
    base?.objects.some((o) => o.name === name && o.status !== 'failed') ?? false;
  // Deletes since the base, from Salesforce's delete log, for every object that keeps one and whose
  // changes are read by SystemModstamp (the log dates a delete by it, so a row it lists that is
  // still in the recycle bin is read again): rows hard deleted or purged from the recycle bin are
  // seen nowhere else. An object the log cannot cover is read in full.
  const deleteLog =
    base && windowStart
      ? deletesSince(
          await readDeleteLog(
            source,
            toDescribe.filter((name) => {
              const candidate = candidates.get(name)!;
              return (
                candidate.replicateable &&
                candidate.strategy.kind === 'all' &&
                inBase(name) &&
                baseWatermarkField(base, name) === 'SystemModstamp'
              );
            }),
            windowStart,
            started,
            // The next run's window starts here: the log must have covered up to it.
            deleteLogStart(new Date(started.getTime() - settings.overlapSeconds * 1000), started),
          ),
          new Date(since!),
        )
      : new Map<string, DeleteLogReading>();
  // Changes the journal could not hold (gap, overflow and wildcard events) it received since the
  // previous data snapshot's window began, whatever their commit time: an incremental reads those
  // objects in full, so the vault ends exact; a full run reads every object anyway. Either way the
  // manifest says up to which arrival each such object is settled.
  const journalGaps = new Map<string, string>();
  const journalSettled = new Map<string, string>();
  if (previous && !metadataOnly) {
    for (const gap of await rereadsSince(store, request.org, sinceOf(previous, settings))) {
      journalSettled.set(gap.entityName, gap.receivedAt);
      if (!base || journalGaps.has(gap.entityName)) continue;
      journalGaps.set(
        gap.entityName,
        gap.changeType === 'GAP_OVERFLOW'
          ? `the change-event journal overflowed for ${gap.entityName} at ${gap.commitTimestamp} (GAP_OVERFLOW): its changes since are read again`
          : gap.kind === 'overflow'
            ? `the change-event journal received an event for every record of ${gap.entityName} at ${gap.commitTimestamp} (${gap.changeType}, record ids ${gap.recordIds.join(', ')}): the object is read again`
            : `the change-event journal has a gap for ${gap.recordIds.length} record(s) of ${gap.entityName} at ${gap.commitTimestamp} (${gap.changeType}): the object is read again`,
      );
    }
  }
  const logSaysChanged = (name: string) => {
    if (journalGaps.has(name)) return true;
    const reading = deleteLog.get(name);
    return reading !== undefined && (reading.kind === 'read-in-full' || reading.records.length > 0);
  };
  if (base && since) {
    const countable = toDescribe.flatMap((name) => {
      const field = candidates.get(name)!.strategy.kind === 'all' ? baseWatermarkField(base, name) : null;
      return field ? [{ name, field }] : [];
    });
    const changes = await source.countRows([
      ...countable.map(({ name, field }) => ({
        key: name,
        soql: `SELECT COUNT() FROM ${name} WHERE ${field} > ${since}`,
      })),
    ]);
    toDescribe = toDescribe.filter((name) => {
      if (changes.get(name) !== 0 || logSaysChanged(name)) return true;
      const fields = base.objects.find((o) => o.name === name)!.fields;
      unchanged.push({ name, fields, watermarkField: countable.find((c) => c.name === name)!.field });
      return false;
    });
  }

  const describes = toDescribe.length > 0 ? await source.describeObjects(toDescribe) : [];
  const specs: ObjectSpec[] = [];
  for (const describe of describes) {
    const candidate = candidates.get(describe.name)!;
    // Rows of an object the base snapshot did not hold (new, or skipped then), or whose delete log
    // cannot cover the window, are all read.
    const reading = deleteLog.get(describe.name);
    const readInFull =
      (reading?.kind === 'read-in-full' ? reading.reason : undefined) ??
      journalGaps.get(describe.name) ??
      (candidate.strategy.kind === 'per-parent' && inBase(describe.name) ? PER_PARENT_IN_FULL : undefined);
    const spec = specFor(
      describe,
      inBase(describe.name) && !readInFull ? since : null,
      candidate,
      heldBefore.has(describe.name),
    );
    if (spec) {
      const settled = spec.since === null ? journalSettled.get(describe.name) : undefined;
      specs.push({
        ...spec,
        ...(readInFull && spec.since === null && spec.watermarkField ? { fullReason: readInFull } : {}),
        ...(settled ? { journalSettled: settled } : {}),
      });
    } else if (candidate.includedByName)
      refusedIncluded(request.org, [[describe.name, 'describe lists no queryable fields']]);
    else
      skipped.push({
        name: describe.name,
        reason: 'describe lists no queryable fields',
        reasonCode: 'not-queryable',
      });
  }

  let counts = new Map<string, number>();
  if (mode === 'full') {
    counts = await source.countRows([
      ...specs
        .filter((s) => s.strategy?.kind === 'all')
        .map((s) => ({ key: s.name, soql: `SELECT COUNT() FROM ${s.name}` })),
      ...parentCountQueries(candidates, specs),
    ]);
    for (const parent of parentsOf(candidates)) {
      const count = counts.get(parent) ?? counts.get(`${PARENT_KEY}${parent}`);
      if (count !== undefined) parentCounts.set(parent, count);
    }
  } else if (mode === 'incremental') {
    // An incremental counts no object in full: the parents' rows at the last full run stand in.
    for (const [parent, count] of await lastFullCounts(reader, request.org, parentsOf(candidates)))
      parentCounts.set(parent, count);
  }
  // Deferral: a run that would spend more than its share of the daily allowance does not start.
  const estimate = estimateCalls(specs, counts, parentCounts, settings) + Math.ceil(deleteLog.size / 25);
  const allowed = Math.min(
    limits.dailyApiRequests.remaining,
    Math.floor(limits.dailyApiRequests.max * settings.apiShare),
  );
  const deferred = estimate > allowed;
  const deferredReason = deferred
    ? `Backup of org ${request.org} deferred: it needs about ${estimate} API calls, but only ${allowed} may be spent now (${limits.dailyApiRequests.remaining} of ${limits.dailyApiRequests.max} remaining today, run share ${settings.apiShare}). It will run at the next schedule; raise apiShare or run it later by hand.`
    : '';

  const runId = request.runId ?? `local-${snapshotId}`;
  let withCounts = specs.map((s) => (counts.has(s.name) ? { ...s, countAtStart: counts.get(s.name)! } : s));
  if (!deferred) {
    withCounts = await Promise.all(
      withCounts.map(async (spec) => {
        const reading = deleteLog.get(spec.name);
        if (reading?.kind !== 'deleted' || reading.records.length === 0 || spec.since === null) return spec;
        const tombstones = await writeTombstones(
          store,
          request.org,
          snapshotId,
          spec.name,
          reading.records,
          deps.random,
        );
        return { ...spec, tombstones };
      }),
    );
    for (const spec of withCounts) {
      await store.put(objectSpecKey(request.org, snapshotId, spec.name), JSON.stringify(spec), {
        contentType: 'application/json',
      });
    }
  }
  const detail: PlanDetail = {
    org: request.org,
    orgId: identity.orgId,
    userId: identity.userId,
    apiVersion: source.apiVersion,
    snapshotId,
    runId,
    mode,
    requestedMode: request.mode,
    baseSnapshotId: base?.snapshotId ?? null,
    startedAt: started.toISOString(),
    watermark: started.toISOString(),
    since,
    ...(fullReason ? { fullReason } : {}),
    ...(journalBreak ? { journalBreak } : {}),
    ...(continuity ? { continuousObjects: continuity.objects } : {}),
    ...(continuity && continuity.warnings.length > 0 ? { warnings: continuity.warnings } : {}),
    ...(continuity?.relayDown ? { relayDown: continuity.relayDown } : {}),
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

/** What a continuous org's relay says at plan time. */
interface Continuity {
  /** A break the relay's state shows in the journal, or null. */
  readonly break: JournalBreak | null;
  /**
   * Objects whose change events are on the relay's channel and reach the journal: none when the
   * relay cannot be read or relays nothing.
   */
  readonly objects: readonly string[];
  readonly warnings: readonly string[];
  /** The relay relays nothing: the warning that names it, which the run alerts too. */
  readonly relayDown?: string;
}

/**
 * Reads the relay of `partnerEventSource` and its channel's objects, and the journal's arrivals,
 * and judges whether the journal has a break. A relay the integration user cannot read (a refused
 * query: no View Setup and Configuration, or an org without Event Relay) does not fail the run: it
 * is a warning, and no object counts as continuous. A relay that relays nothing, for however long,
 * is a warning the run alerts, and no object counts as continuous either: the journal after this
 * snapshot lacks their changes until the relay catches up, if it does. Other failures (limits, a
 * transient error) fail the step, which the workflow retries.
 */
async function readContinuity(
  deps: BackupDeps,
  org: string,
  partnerEventSource: string,
  now: Date,
): Promise<Continuity> {
  let report: EventRelayReport | null;
  try {
    report = await deps.source.eventRelay(partnerEventSource);
  } catch (error) {
    if (!refused(error)) throw error;
    return {
      break: null,
      objects: [],
      warnings: [
        `The Event Relay of ${partnerEventSource} could not be read (${(error as Error).message}), so this run could not check the change-event journal for a break and counts no object as continuous. Give the integration user View Setup and Configuration (docs/continuous.md, "The Salesforce admin").`,
      ],
    };
  }
  const known = [report?.errorTime, report?.lastRelayedEventTime]
    .filter((t): t is string => typeof t === 'string')
    .map((t) => Date.parse(t))
    .filter((t) => Number.isFinite(t));
  // Batches are filed by commit hour: those from an hour before the earliest time the relay
  // reports on are the ones that tell when it delivered since; without such a time, all of them.
  const from = known.length > 0 ? new Date(Math.min(...known) - 3_600_000) : undefined;
  const arrivals = await journalArrivals(deps.store, org, from);
  const found = relayBreak(report, now, arrivals);
  const outage = relayOutage(report, now, arrivals);
  if (outage) return { break: found, objects: [], warnings: [outage.message], relayDown: outage.message };

  const warnings: string[] = [];
  let objects: string[] = [];
  if (report) {
    try {
      objects = await deps.source.changeEventEntities(report.eventChannel);
    } catch (error) {
      if (!refused(error)) throw error;
      warnings.push(
        `The members of channel ${report.eventChannel} could not be read (${(error as Error).message}), so this run counts no object as continuous. Give the integration user View Setup and Configuration (docs/continuous.md, "The Salesforce admin").`,
      );
    }
  }
  return { break: found, objects, warnings };
}

/** A Salesforce refusal that asking again will not change (as opposed to a limit or a fault). */
function refused(error: unknown): boolean {
  return error instanceof SalesforceQueryError || error instanceof SalesforceRequestError;
}

/**
 * Whether an earlier complete data snapshot already recorded this break: the same start, and an
 * end at or after this one's. A break that has grown since (the relay is still down) is not: the
 * stretch after the recorded end is new, and is recorded again.
 */
async function breakRecorded(reader: SnapshotReader, org: string, found: JournalBreak): Promise<boolean> {
  const entries = (await reader.catalog(org)).filter((e) => e.status === 'complete' && e.mode !== 'metadata');
  for (const entry of entries.reverse()) {
    // A snapshot the retention sweep removed since the catalog was read records nothing.
    const recorded = (await reader.manifestUnlessSwept(org, entry.snapshotId))?.journalBreak;
    if (recorded?.from === found.from && Date.parse(recorded.to) >= Date.parse(found.to)) return true;
  }
  return false;
}

/** An object the plan exports, and how. */
interface Candidate {
  readonly strategy: ExportStrategy;
  readonly includedByName: boolean;
  /** Salesforce keeps a delete log of it (describeGlobal `replicateable`). */
  readonly replicateable: boolean;
}

/**
 * Decides each object describeGlobal lists (special-objects.ts): exported, and how, or skipped
 * with a reason. An object the settings include by name that Salesforce marks unreadable fails
 * the run, naming it.
 */
function chooseObjects(
  org: string,
  objects: readonly GlobalObject[],
  settings: BackupSettings,
  skipped: SkippedObject[],
): Map<string, Candidate> {
  checkNamedObjects(org, objects, settings, skipped);
  const include = new Set(settings.includeObjects.map((n) => n.toLowerCase()));
  const exclude = new Set(settings.excludeObjects.map((n) => n.toLowerCase()));
  const chosen = new Map<string, Candidate>();
  const refused: [string, string][] = [];
  for (const object of [...objects].sort((a, b) => a.name.localeCompare(b.name))) {
    const lower = object.name.toLowerCase();
    if (include.size > 0 && !include.has(lower)) continue;
    const includedByName = include.has(lower);
    const decision = exclude.has(lower) ? excludedByConfiguration() : decideObject(object, includedByName);
    if (decision.kind === 'export')
      chosen.set(object.name, {
        strategy: decision.strategy,
        includedByName,
        replicateable: object.replicateable ?? false,
      });
    else if (includedByName && decision.reasonCode !== 'excluded')
      refused.push([object.name, `${decision.reasonCode}: ${decision.reason}`]);
    else skipped.push({ name: object.name, reason: decision.reason, reasonCode: decision.reasonCode });
  }
  if (refused.length > 0) refusedIncluded(org, refused);
  return chosen;
}

function refusedIncluded(org: string, refused: readonly (readonly [string, string])[]): never {
  throw new IncludedObjectRefusedError(
    `The backup settings of org ${org} include objects by name that cannot be read: ${refused
      .map(([name, why]) => `${name} (${why})`)
      .join(
        '; ',
      )}. Nothing was backed up. Remove them from the org's objects.include in the config (or the settings given to the CLI), or give the integration user access to them, and run again.`,
  );
}

/**
 * The deletes of the run's own window. The log is read from the minute at or before `since`, but a
 * row deleted before `since` was seen by the base: its export read it in the recycle bin, or its
 * log listed it (the overlap is at least a minute, as by default). A tombstone for it would hide a
 * row this run's export did not read again, though it may still be in the recycle bin.
 */
function deletesSince(log: Map<string, DeleteLogReading>, since: Date): Map<string, DeleteLogReading> {
  const out = new Map<string, DeleteLogReading>();
  for (const [object, reading] of log) {
    out.set(
      object,
      reading.kind === 'deleted'
        ? { kind: 'deleted', records: reading.records.filter((r) => new Date(r.deletedDate) >= since) }
        : reading,
    );
  }
  return out;
}

/** The lower bound of an incremental's window: the base watermark less the overlap. */
function sinceOf(base: SnapshotManifest, settings: BackupSettings): Date {
  return new Date(new Date(base.watermark).getTime() - settings.overlapSeconds * 1000);
}

/** The watermark field of an object in the base snapshot: recorded there, or read from its fields. */
function baseWatermarkField(base: SnapshotManifest, name: string): WatermarkField | null {
  const object = base.objects.find((o) => o.name === name && o.status !== 'failed');
  if (!object) return null;
  if (object.watermarkField !== undefined) return object.watermarkField;
  return watermarkFieldOf(
    name,
    object.fields.filter((f) => f.inCsv).map((f) => f.name),
  );
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
  skipped: SkippedObject[],
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
    skipped.push({
      name,
      reason: 'excluded by the configuration; the org has no such object',
      reasonCode: 'excluded',
    });
  }
  if (problems.length > 0) {
    throw new UnknownBackupObjectsError(
      `The backup settings of org ${org} name objects the org does not have (${problems.join('; ')}). Nothing was backed up. Correct the object API names in the org's objects.include and objects.exclude in the config (or the settings given to the CLI) and run again.`,
    );
  }
}

function specFor(
  describe: ObjectDescribe,
  since: string | null,
  candidate: Candidate,
  heldBefore: boolean,
): ObjectSpec | undefined {
  const fields = describe.fields.map(toSnapshotField);
  const columns = fields.filter((f) => f.inCsv).map((f) => f.name);
  if (columns.length === 0) return undefined;
  const watermarkField = watermarkFieldOf(describe.name, columns);
  return {
    name: describe.name,
    // Filtered strategies run many small queries, one per filter: REST serves each at once.
    api: candidate.strategy.kind === 'all' ? 'bulk' : 'rest',
    fields,
    columns,
    since: watermarkField ? since : null,
    watermarkField,
    strategy: candidate.strategy,
    ...(candidate.includedByName ? { includedByName: true } : {}),
    ...(heldBefore ? { heldBefore: true } : {}),
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

/**
 * The API calls a run will take, about. An object read in full: the job's calls and its pages. One
 * read per status: a query per status and its pages. One read per parent: a query per 2,000 parent
 * ids, a query per batch of ids that fits a REST query's URL, and the pages of the rows, which no
 * COUNT() can tell (Salesforce refuses it unfiltered): taken as one row per parent.
 */
function estimateCalls(
  specs: readonly ObjectSpec[],
  counts: ReadonlyMap<string, number>,
  parentCounts: ReadonlyMap<string, number>,
  settings: BackupSettings,
): number {
  let calls = 0;
  for (const spec of specs) {
    const strategy = spec.strategy ?? { kind: 'all' };
    const rows = counts.get(spec.name) ?? settings.pageSize;
    if (strategy.kind === 'all') calls += 3 + Math.ceil(rows / settings.pageSize);
    else if (strategy.kind === 'per-status') calls += strategy.values.length + Math.ceil(rows / REST_BATCH);
    else {
      const parentIds = parentCounts.get(strategy.parent) ?? settings.pageSize;
      const perBatch = Math.floor(REST_QUERY_MAX_ENCODED / encodedLength("'000000000000000000',"));
      calls +=
        Math.floor(parentIds / PARENT_PAGE) +
        1 +
        Math.ceil(parentIds / perBatch) +
        Math.ceil(parentIds / REST_BATCH);
    }
  }
  return calls + Math.ceil(specs.length / 25);
}

/** The parents of the objects read per parent: each such export reads every parent id on every run. */
function parentsOf(candidates: ReadonlyMap<string, Candidate>): string[] {
  const parents = new Set<string>();
  for (const { strategy } of candidates.values())
    if (strategy.kind === 'per-parent') parents.add(strategy.parent);
  return [...parents];
}

/**
 * COUNT() queries, keyed `parent:<name>`, of the parents a full run does not count already (a
 * parent the settings leave out): in the same Composite calls as the other counts.
 */
function parentCountQueries(
  candidates: ReadonlyMap<string, Candidate>,
  specs: readonly ObjectSpec[],
): { key: string; soql: string }[] {
  const counted = new Set(specs.filter((s) => (s.strategy?.kind ?? 'all') === 'all').map((s) => s.name));
  return parentsOf(candidates)
    .filter((parent) => !counted.has(parent))
    .map((parent) => ({ key: `${PARENT_KEY}${parent}`, soql: `SELECT COUNT() FROM ${parent}` }));
}

/** The rows each object had when the org's last complete full snapshot started, where it counted them. */
async function lastFullCounts(
  reader: SnapshotReader,
  org: string,
  names: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (names.length === 0) return out;
  const full = (await reader.catalog(org)).filter((e) => e.status === 'complete' && e.mode === 'full').at(-1);
  if (!full) return out;
  // Gone when the retention sweep removed it since the catalog was read: no counts then.
  for (const object of (await reader.manifestUnlessSwept(org, full.snapshotId))?.objects ?? []) {
    if (names.includes(object.name) && object.countAtStart !== undefined)
      out.set(object.name, object.countAtStart);
  }
  return out;
}

const PARENT_KEY = 'parent:';

/** Rows a REST query answers per call, at most (REST API Developer Guide, "Query Options Header"). */
const REST_BATCH = 2000;

/** A SOQL dateTime literal (whole seconds, UTC), rounded down. */
export function soqlDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
