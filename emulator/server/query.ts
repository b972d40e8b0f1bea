import type { QueryColumn } from '../org/api.ts';
import type { Handler, RouteRequest } from './context.ts';
import { errors } from './errors.ts';
import type { QueryPage } from './query-locators.ts';

const DEFAULT_BATCH = 2000;

/** Batch size from `Sforce-Query-Options: batchSize=N` (200 to 2,000; default 2,000). */
export function batchSize(req: RouteRequest): number {
  const header = req.raw.headers['sforce-query-options'];
  const text = Array.isArray(header) ? header.join(',') : header;
  const match = text ? /batchSize\s*=\s*([0-9]+)/i.exec(text) : null;
  if (!match) return DEFAULT_BATCH;
  return Math.min(2000, Math.max(200, Number(match[1])));
}

function pageBody(page: QueryPage, req: RouteRequest, all: boolean, tooling = false) {
  const body: Record<string, unknown> = { totalSize: page.totalSize, done: page.done };
  if (page.next)
    body.nextRecordsUrl = `/services/data/v${req.version}/${tooling ? 'tooling/' : ''}${all ? 'queryAll' : 'query'}/${page.next}`;
  body.records = tooling ? page.records.map(toolingUrls) : page.records;
  return body;
}

/** A Tooling API record's `attributes.url` (and its parents') is under `/tooling/sobjects/`. */
function toolingUrls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(toolingUrls) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const attributes = v as { url?: unknown } | null;
    out[key] =
      key === 'attributes' && typeof attributes?.url === 'string'
        ? {
            ...attributes,
            url: attributes.url.replace(/^(\/services\/data\/v[^/]+)\/sobjects\//, '$1/tooling/sobjects/'),
          }
        : toolingUrls(v);
  }
  return out as T;
}

function columnEntry(
  column: QueryColumn,
  name: string,
  join: Record<string, unknown>[],
): Record<string, unknown> {
  const field = column.field;
  const type = field?.type;
  return {
    aggregate: column.aggregate || join.length > 0 ? column.aggregate : false,
    apexType: type === undefined ? null : apexType(type),
    booleanType: type === 'boolean',
    columnName: name,
    custom: field?.custom ?? false,
    displayName: column.aggregate ? column.label : name,
    foreignKeyName: null,
    insertable: field?.createable ?? false,
    joinColumns: join,
    numberType:
      type === 'int' || type === 'double' || type === 'currency' || type === 'percent' || type === 'long',
    textType:
      type === 'string' ||
      type === 'textarea' ||
      type === 'email' ||
      type === 'phone' ||
      type === 'url' ||
      type === 'picklist',
    updatable: field?.updateable ?? false,
  };
}

function apexType(type: string): string {
  const map: Record<string, string> = {
    id: 'Id',
    reference: 'Id',
    boolean: 'Boolean',
    int: 'Integer',
    long: 'Long',
    double: 'Double',
    currency: 'Double',
    percent: 'Double',
    date: 'Date',
    datetime: 'Datetime',
    time: 'Time',
    base64: 'Blob',
    address: 'Address',
    location: 'Location',
  };
  return map[type] ?? 'String';
}

/** Salesforce's `columnMetadata`: parent paths nest as `joinColumns` under their relationship. */
export function columnMetadata(columns: readonly QueryColumn[]): Record<string, unknown>[] {
  const top: Record<string, unknown>[] = [];
  const byRelationship = new Map<string, Record<string, unknown>[]>();
  for (const column of columns) {
    if (column.relationships.length === 0 || column.aggregate) {
      top.push(columnEntry(column, column.aggregate ? column.label : column.path.split('.').pop()!, []));
      continue;
    }
    let list = top;
    let key = '';
    for (const rel of column.relationships) {
      key = key === '' ? rel : `${key}.${rel}`;
      let joins = byRelationship.get(key);
      if (!joins) {
        joins = [];
        byRelationship.set(key, joins);
        list.push({
          ...columnEntry({ ...column, field: null, aggregate: false }, rel, joins),
          foreignKeyName: rel,
        });
      }
      list = joins;
    }
    list.push(columnEntry(column, column.field?.name ?? column.label, []));
  }
  return top;
}

/** GET /query?q= and /queryAll?q= (with `columns=true`, the columns instead of the rows). */
export function query(all: boolean): Handler {
  return async (ctx, req) => {
    const soql = req.query.get('q');
    if (soql === null || soql.trim() === '') {
      throw errors.malformedQuery('A SOQL query is required in the q parameter.');
    }
    if (req.query.get('columns') === 'true') {
      const cursor = ctx.org.query(soql, { includeDeleted: all, apiVersion: req.version });
      return {
        status: 200,
        body: {
          columnMetadata: columnMetadata(cursor.columns),
          entityName: cursor.info.objectName,
          groupBy: false,
          idSelected: cursor.columns.some((c) => c.path === 'Id'),
          keyPrefix: ctx.org.findObject(cursor.info.objectName)?.keyPrefix ?? null,
        },
      };
    }
    const page = ctx.locators.first(soql, all, req.version, batchSize(req));
    return { status: 200, body: pageBody(page, req, all) };
  };
}

/** GET /query/{locator} and /queryAll/{locator}. */
export const queryMore: Handler = async (ctx, req) => {
  const page = ctx.locators.more(req.params[0]!);
  return { status: 200, body: pageBody(page, req, req.path.includes('/queryAll/')) };
};

/**
 * GET /tooling/query?q=: the Tooling API objects the emulator models (the relay's
 * EventRelayConfig, PlatformEventChannelMember); other objects answer `INVALID_TYPE`.
 */
export const toolingQuery: Handler = async (ctx, req) => {
  const soql = req.query.get('q');
  if (soql === null || soql.trim() === '') {
    throw errors.malformedQuery('A SOQL query is required in the q parameter.');
  }
  const page = ctx.locators.first(soql, false, req.version, batchSize(req), true);
  return { status: 200, body: pageBody(page, req, false, true) };
};

/** GET /tooling/query/{locator}. */
export const toolingQueryMore: Handler = async (ctx, req) => {
  const page = ctx.locators.more(req.params[0]!);
  return { status: 200, body: pageBody(page, req, false, true) };
};
