/**
 * The objects a backup cannot read the plain way, and what it does with each: export it by a
 * strategy Salesforce accepts, or skip it with a reason from the fixed list (SKIP_REASONS). Every
 * entry names where the fact comes from; docs/backup-workflow.md ("Which objects a run exports")
 * lists the sources in full.
 */
import type { SkipReason, WatermarkField } from '../snapshot/manifest.ts';
import { WATERMARK_FIELDS } from '../snapshot/manifest.ts';
import type { GlobalObject } from '../salesforce.ts';
import {
  SalesforceError,
  SalesforceRateLimitError,
  SalesforceSessionExpiredError,
  SalesforceTransientError,
} from '../salesforce.ts';

/** How the rows of an exported object are selected. */
export type ExportStrategy =
  /** One query of every row: Bulk API 2.0, REST when Bulk refuses the object. */
  | { readonly kind: 'all' }
  /** REST queries filtered on batches of parent ids, read from the parent object at export time. */
  | { readonly kind: 'per-parent'; readonly parent: string; readonly field: string }
  /** One REST query per value of a field Salesforce requires a filter on. */
  | { readonly kind: 'per-status'; readonly field: string; readonly values: readonly string[] };

/** What the plan does with one object. */
export type ObjectDecision =
  | { readonly kind: 'export'; readonly strategy: ExportStrategy }
  | { readonly kind: 'skip'; readonly reasonCode: SkipReason; readonly reason: string };

/**
 * The most bytes a URL-encoded statement may take in a REST query's URL. Salesforce refuses a
 * request whose URI and headers together exceed 16,384 bytes (414 URI Too Long for the URI alone,
 * 431 Request Header Fields Too Large with the headers; Salesforce Help, "Maximum number of rows
 * returned by SOQL queries over the REST API", article 000386264). The rest of the 16,384 is left
 * for the path (`/services/data/vXX.X/queryAll?q=`) and the headers (the session token, the
 * query options, the client's own).
 */
export const REST_QUERY_MAX_ENCODED = 14_000;

/** The PublishStatus values of a Knowledge article version (Object Reference, KnowledgeArticleVersion). */
export const PUBLISH_STATUSES = ['Online', 'Draft', 'Archived'] as const;

// Object Reference, ContentDocumentLink: "turn on the Query All Files permission to query without a
// filter on id, LinkedEntityId, and documentID fields". Without it, every query must filter.
const CONTENT_DOCUMENT_LINK: ExportStrategy = {
  kind: 'per-parent',
  parent: 'ContentDocument',
  field: 'ContentDocumentId',
};

// Knowledge Developer Guide, "Salesforce Knowledge with SOQL and SOSL": filter KnowledgeArticleVersion
// (and every article type's __kav object) on a single PublishStatus value.
const KNOWLEDGE_VERSIONS: ExportStrategy = {
  kind: 'per-status',
  field: 'PublishStatus',
  values: PUBLISH_STATUSES,
};

/**
 * Standard objects Salesforce answers only with a WHERE clause naming specific ids or parents, which
 * a backup of the whole org cannot supply. Source: airbytehq/airbyte, source-salesforce
 * `QUERY_RESTRICTED_SALESFORCE_OBJECTS` (api.py), less ContentDocumentLink, which is read per parent.
 */
const NEEDS_FILTER = new Map<string, string>([
  ['Announcement', 'queries need a filter on the announcement or its feed item'],
  ['AppTabMember', 'queries need a filter on the app (AppDefinitionId)'],
  ['CollaborationGroupRecord', 'queries need a filter on the group (CollaborationGroupId)'],
  ['ColorDefinition', 'queries need a filter on the tab (TabDefinitionId)'],
  ['ContentFolderItem', 'queries need a filter on the folder (ParentContentFolderId)'],
  ['ContentFolderMember', 'queries need a filter on the folder or the file'],
  ['DataStatistics', 'queries need a filter on the statistic type'],
  ['DatacloudDandBCompany', 'queries need a filter on the company'],
  ['EntityParticle', 'queries need a filter on the object (EntityDefinitionId)'],
  ['FieldDefinition', 'queries need a filter on the object (EntityDefinitionId)'],
  ['FieldHistoryArchive', 'queries need a filter on the archived object and its parent'],
  ['FlexQueueItem', 'queries need a filter on the job type'],
  ['FlowVariableView', 'queries need a filter on the flow version'],
  ['FlowVersionView', 'queries need a filter on the flow (FlowDefinitionViewId)'],
  ['IconDefinition', 'queries need a filter on the tab (TabDefinitionId)'],
  ['IdeaComment', 'queries need a filter on the idea (IdeaId)'],
  ['NetworkUserHistoryRecent', 'queries need a filter on the network member'],
  ['OwnerChangeOptionInfo', 'queries need a filter on the object (EntityDefinitionId)'],
  ['PicklistValueInfo', 'queries need a filter on the field (EntityParticleId)'],
  ['PlatformAction', 'queries need a filter on the context (SourceEntity)'],
  ['RelationshipDomain', 'queries need a filter on the parent or child object'],
  ['RelationshipInfo', 'queries need a filter on the child object'],
  ['SearchLayout', 'queries need a filter on the object (EntityDefinitionId)'],
  ['SiteDetail', 'queries need a filter on the site (DurableId)'],
  ['UserEntityAccess', 'queries need a filter on the user and the object'],
  ['UserFieldAccess', 'queries need a filter on the user and the field'],
  ['Vote', 'queries need a filter on the voted item (ParentId)'],
]);

/**
 * Standard objects whose rows Salesforce computes from other objects' rows; those objects are
 * exported, so these add nothing a restore could use. Source: airbytehq/airbyte, source-salesforce
 * `QUERY_INCOMPATIBLE_SALESFORCE_OBJECTS` (api.py), and the Object Reference entry of each object.
 */
const DERIVED = new Map<string, string>([
  ['ActivityHistory', 'a read-only view of closed Task and Event rows, which are exported'],
  ['OpenActivity', 'a read-only view of open Task and Event rows, which are exported'],
  ['AggregateResult', 'the result of an aggregate query, not an object with rows'],
  ['AttachedContentDocument', 'a view of ContentDocumentLink rows by the record they are linked to'],
  ['AttachedContentNote', 'a view of ContentDocumentLink rows for notes'],
  ['CombinedAttachment', 'a view of Attachment and ContentDocument rows by parent record'],
  ['NoteAndAttachment', 'a view of Note and Attachment rows, which are exported'],
  ['FolderedContentDocument', 'a view of ContentDocument rows by library folder'],
  ['OwnedContentDocument', 'a view of ContentDocument rows by owner'],
  ['LookedUpFromActivity', 'a view of activities by the record they look up'],
  ['ProcessInstanceHistory', 'a view of ProcessInstanceStep and ProcessInstanceWorkitem rows'],
  ['EmailStatus', 'a view of email tracking computed from Task rows'],
  ['Name', 'a view of the name fields of the records a polymorphic lookup can point to'],
  ['RecentlyViewed', "a per-user list computed from each user's views, refused by Bulk"],
  [
    'UserRecordAccess',
    "a user's access to a record, computed from sharing; queries need UserId and RecordId",
  ],
]);

/**
 * Standard objects that hold no rows in Salesforce: event monitoring streams and real-time events,
 * delivered as they happen. Source: airbytehq/airbyte, source-salesforce
 * `QUERY_INCOMPATIBLE_SALESFORCE_OBJECTS` (api.py); Platform Events Developer Guide.
 */
const STANDARD_EVENTS = new Set([
  'AIPredictionEvent',
  'ApiAnomalyEvent',
  'AssetTokenEvent',
  'AsyncOperationEvent',
  'AsyncOperationStatus',
  'BatchApexErrorEvent',
  'BulkApiResultEvent',
  'ConcurLongRunApexErrEvent',
  'CredentialStuffingEvent',
  'FlowExecutionErrorEvent',
  'OrgLifecycleNotification',
  'PlatformStatusAlertEvent',
  'ProcessExceptionEvent',
  'RemoteKeyCalloutEvent',
  'ReportAnomalyEvent',
  'SessionHijackingEvent',
]);

/**
 * Standard objects no query API serves, though describeGlobal may list them as queryable. Source:
 * airbytehq/airbyte, source-salesforce `QUERY_INCOMPATIBLE_SALESFORCE_OBJECTS` (api.py).
 */
const NOT_QUERYABLE = new Set([
  'ContentBody',
  'DataType',
  'DatacloudAddress',
  'FeedLike',
  'FeedSignal',
  'FeedTrackedChange',
  'ListViewChartInstance',
  'OutgoingEmail',
  'OutgoingEmailRelation',
  'QuoteTemplateRichTextData',
]);

/** Whether the object is a Knowledge article version: the generic view or an article type (`__kav`). */
function isKnowledgeVersion(name: string): boolean {
  return name === 'KnowledgeArticleVersion' || name.endsWith('__kav');
}

/**
 * Decides how an object describeGlobal lists is exported, or why it is skipped. Name suffixes
 * follow the Object Reference's naming of custom object kinds ("Object Reference, Custom Objects":
 * `__x` external, `__e` platform event, `__b` big object, `__kav` article version; change events
 * end in `ChangeEvent`). An object the settings include by name is never skipped by category: it
 * is exported the plain way, and Salesforce's own answer decides.
 */
export function decideObject(object: GlobalObject, includedByName: boolean): ObjectDecision {
  const { name } = object;
  const strategy = strategyOf(name);
  if (includedByName) return readable(object) ?? exportBy(strategy);
  const notStored = notStoredReason(name);
  if (notStored) return skip('not-stored', notStored);
  const flags = readable(object);
  if (flags) return flags;
  if (strategy.kind !== 'all') return exportBy(strategy);
  // Big Objects Implementation Guide, "SOQL with Big Objects": queries filter on the index fields,
  // from the first, without gaps.
  if (name.endsWith('__b'))
    return skip(
      'needs-filter',
      'a big object: queries must filter on its index fields, from the first, in order',
    );
  const filter = NEEDS_FILTER.get(name);
  if (filter) return skip('needs-filter', filter);
  const derived = DERIVED.get(name);
  if (derived) return skip('derived', derived);
  // Object Reference, "Feed objects" (AccountFeed, CaseFeed, NewsFeed, UserProfileFeed, ...): each is
  // a view of FeedItem rows by parent, and FeedItem is exported.
  if (name.endsWith('Feed'))
    return skip('derived', 'a feed: a view of FeedItem rows by parent, which are exported');
  if (NOT_QUERYABLE.has(name)) return skip('not-queryable', "Salesforce's query APIs do not serve it");
  return exportBy(strategy);
}

/** The strategy an object needs: ContentDocumentLink per parent, article versions per status. */
function strategyOf(name: string): ExportStrategy {
  if (name === 'ContentDocumentLink') return CONTENT_DOCUMENT_LINK;
  if (isKnowledgeVersion(name)) return KNOWLEDGE_VERSIONS;
  return { kind: 'all' };
}

/** Why an object holds no rows in Salesforce, by its name; undefined when it may. */
function notStoredReason(name: string): string | undefined {
  if (name.endsWith('__x'))
    return 'an external object: its rows live in an external system, read on every query';
  if (name.endsWith('__e')) return 'a platform event: published to the event bus, not stored';
  if (name.endsWith('ChangeEvent'))
    return 'a change data capture event: published to the event bus, not stored';
  if (name.endsWith('EventStream') || STANDARD_EVENTS.has(name))
    return 'a real-time event: delivered as it happens, not stored as rows';
  return undefined;
}

/** The skip describeGlobal's flags call for, or undefined when they let the object be read. */
function readable(object: GlobalObject): ObjectDecision | undefined {
  if (!object.queryable) return skip('not-queryable', 'describeGlobal marks it not queryable');
  if (!object.retrieveable) return skip('not-queryable', 'describeGlobal marks it not retrieveable');
  if (object.deprecatedAndHidden)
    return skip('not-queryable', 'describeGlobal marks it deprecated and hidden');
  return undefined;
}

/** The skip decision for an object the settings exclude. */
export function excludedByConfiguration(): ObjectDecision {
  return skip('excluded', 'excluded by the configuration');
}

/**
 * The kind of permanent refusal a failed query is, by Salesforce's error code, or undefined when it
 * is not one. Transient failures, rate limits and expired sessions never are.
 */
export function refusalKind(error: unknown): 'invalid-type' | 'implementation-restriction' | undefined {
  if (!(error instanceof SalesforceError)) return undefined;
  if (
    error instanceof SalesforceTransientError ||
    error instanceof SalesforceRateLimitError ||
    error instanceof SalesforceSessionExpiredError
  )
    return undefined;
  const code = error.errorCode ?? '';
  // SOAP API Developer Guide, StatusCode: INVALID_TYPE_FOR_OPERATION.
  if (code === 'INVALID_TYPE_FOR_OPERATION') return 'invalid-type';
  // Salesforce answers a query an object only serves with a filter with MALFORMED_QUERY
  // "Implementation restriction: ..." (Object Reference, ContentDocumentLink and others).
  if (code === 'MALFORMED_QUERY' && /implementation restriction/i.test(error.message))
    return 'implementation-restriction';
  return undefined;
}

/**
 * Whether a failed query of `object` is Salesforce refusing it for good, and which reason that is.
 * "Implementation restriction" is also Salesforce's answer to a user who lacks a permission (a query
 * of Task or Event without View All Data), so it counts as a filter requirement only for objects
 * known to need a filter (the list above, big objects) or when the answer itself says the object
 * requires a filter ("<Object> requires a filter by ...", the wording of ContentDocumentLink's
 * refusal in the Object Reference). Anything else is a failure the run reports. An external data
 * source that does not answer (EXTERNAL_OBJECT_*) may answer later: never a refusal.
 */
export function classifyRefusal(
  error: unknown,
  object: string,
): { reasonCode: SkipReason; reason: string } | undefined {
  const kind = refusalKind(error);
  if (kind === 'invalid-type')
    return {
      reasonCode: 'not-queryable',
      reason: 'Salesforce refuses to query it (INVALID_TYPE_FOR_OPERATION)',
    };
  if (kind === 'implementation-restriction' && needsFilter(object, (error as Error).message))
    return {
      reasonCode: 'needs-filter',
      reason:
        'Salesforce requires a filter the backup cannot supply (MALFORMED_QUERY, implementation restriction)',
    };
  return undefined;
}

function needsFilter(object: string, message: string): boolean {
  if (NEEDS_FILTER.has(object) || object.endsWith('__b')) return true;
  return (
    message.includes(`: ${object} requires a filter by `) ||
    message.startsWith(`${object} requires a filter by `)
  );
}

/**
 * The field incremental runs read an object's changes by: SystemModstamp, else LastModifiedDate,
 * or null when it has neither (exported in full every run). CreatedDate serves only objects whose
 * rows never change once written: field history (`*History`, `*FieldHistory`, custom `__History`),
 * which the Object Reference describes as read-only rows created when a tracked field changes.
 */
export function watermarkFieldOf(object: string, columns: readonly string[]): WatermarkField | null {
  const appendOnly = object.endsWith('History');
  return (
    WATERMARK_FIELDS.find((field) => columns.includes(field) && (field !== 'CreatedDate' || appendOnly)) ??
    null
  );
}

// A Salesforce record id: 15 or 18 letters and digits (Object Reference, "Field Types", ID).
const RECORD_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

/**
 * WHERE clauses `field IN ('id', ...)` over `ids`, each as long as fits: a statement whose other
 * parts take `fixedLength` bytes URL-encoded, plus the clause URL-encoded, stays within `limit`
 * (REST_QUERY_MAX_ENCODED, as the statement travels in the URL of a REST query). The encoded
 * length is never less than the statement's, so SOQL's own limit holds too.
 */
export function parentIdClauses(
  field: string,
  ids: readonly string[],
  fixedLength: number,
  limit: number = REST_QUERY_MAX_ENCODED,
): string[] {
  const opening = `${field} IN (`;
  const room = limit - fixedLength - encodedLength(opening) - encodedLength(')');
  const separator = encodedLength(',');
  const clauses: string[] = [];
  let batch: string[] = [];
  let length = 0;
  for (const id of ids) {
    if (!RECORD_ID.test(id)) {
      throw new Error(`"${id}" is not a Salesforce record id; the ${field} filter takes only record ids.`);
    }
    const quoted = `'${id}'`;
    const cost = encodedLength(quoted);
    if (cost > room) {
      throw new Error(
        `A ${field} filter of one id does not fit in a query of ${limit} bytes: select fewer columns.`,
      );
    }
    if (batch.length > 0 && length + separator + cost > room) {
      clauses.push(`${opening}${batch.join(',')})`);
      batch = [];
      length = 0;
    }
    length += (batch.length > 0 ? separator : 0) + cost;
    batch.push(quoted);
  }
  if (batch.length > 0) clauses.push(`${opening}${batch.join(',')})`);
  return clauses;
}

/**
 * The length of text as it travels in a URL's query string: percent-encoded as by
 * `encodeURIComponent`, and with `'` escaped too, as the WHATWG URL parser (fetch, Node's `URL`)
 * escapes it in the query of an http(s) URL (URL Standard, "special-query percent-encode set").
 */
export function encodedLength(text: string): number {
  return encodeURIComponent(text).replaceAll("'", '%27').length;
}

function skip(reasonCode: SkipReason, reason: string): ObjectDecision {
  return { kind: 'skip', reasonCode, reason };
}

function exportBy(strategy: ExportStrategy): ObjectDecision {
  return { kind: 'export', strategy };
}
