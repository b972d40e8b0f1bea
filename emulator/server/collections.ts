import type { OrgApi, RestRecord } from '../org/api.ts';
import { isObject } from './body.ts';
import type { Handler } from './context.ts';
import { ApiError } from './errors.ts';
import { objectFor } from './sobjects.ts';
import { type CollectionResult, ROLLED_BACK, collectionError, fromWriteResult } from './write-results.ts';

const MAX_RECORDS = 200;

interface Undo {
  run(org: OrgApi): void;
}

function tooMany(count: number): ApiError {
  return new ApiError(
    400,
    'EXCEEDED_ID_LIMIT',
    `record limit reached. cannot submit more than ${MAX_RECORDS} records into this call (got ${count})`,
  );
}

function readRecords(body: unknown): { allOrNone: boolean; records: Record<string, unknown>[] } {
  if (!isObject(body) || !Array.isArray(body.records)) {
    throw new ApiError(
      400,
      'JSON_PARSER_ERROR',
      'The request body must be {"allOrNone": boolean, "records": [...]}.',
    );
  }
  if (body.records.length > MAX_RECORDS) throw tooMany(body.records.length);
  return { allOrNone: body.allOrNone === true, records: body.records.map((r) => (isObject(r) ? r : {})) };
}

function typeOf(record: Record<string, unknown>): string | undefined {
  const attributes = record.attributes;
  return isObject(attributes) && typeof attributes.type === 'string' ? attributes.type : undefined;
}

/** Field names are case-insensitive: jsforce sends `id` where others send `Id`. */
function idOf(record: Record<string, unknown>): unknown {
  const key = Object.keys(record).find((k) => k.toLowerCase() === 'id');
  return key === undefined ? undefined : record[key];
}

function valuesOf(record: Record<string, unknown>, omit: string[] = []): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const lowerOmit = omit.map((o) => o.toLowerCase());
  for (const [k, v] of Object.entries(record)) {
    if (k === 'attributes' || lowerOmit.includes(k.toLowerCase())) continue;
    values[k] = v;
  }
  return values;
}

/** Applies allOrNone: when any row failed, undoes the others and marks them rolled back. */
function settle(
  org: OrgApi,
  allOrNone: boolean,
  results: CollectionResult[],
  undos: Undo[],
): CollectionResult[] {
  if (!allOrNone || results.every((r) => r.success)) return results;
  for (const undo of undos.reverse()) undo.run(org);
  // Salesforce rolls the whole call back: nothing it did publishes a change event.
  org.cdc.capture.rollback();
  return results.map((r) =>
    r.success ? { id: null, success: false, errors: [ROLLED_BACK] } : { ...r, id: null },
  );
}

function previousValues(org: OrgApi, type: string, id: string, fields: string[]): Record<string, unknown> {
  const before: RestRecord = org.retrieve(type, id, fields);
  const values: Record<string, unknown> = {};
  for (const f of fields) values[f] = before[f] ?? null;
  return values;
}

/** POST (create) and PATCH (update) /composite/sobjects */
export function collectionsSave(mode: 'create' | 'update'): Handler {
  return async (ctx, req) => {
    const { allOrNone, records } = readRecords(await req.json());
    const results: CollectionResult[] = [];
    const undos: Undo[] = [];
    for (const record of records) {
      try {
        const type = typeOf(record);
        if (!type) throw new ApiError(400, 'INVALID_TYPE', 'Must send a concrete entity type.', []);
        const def = objectFor(ctx, type);
        if (mode === 'create') {
          if (idOf(record) !== undefined && idOf(record) !== null) {
            throw new ApiError(400, 'INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
          }
          const id = ctx.org.insert(def.name, valuesOf(record));
          undos.push({ run: (org) => org.discardInserted([id]) });
          results.push({ id, success: true, errors: [] });
        } else {
          const rawId = idOf(record);
          const id = typeof rawId === 'string' ? rawId : '';
          if (id === '')
            throw new ApiError(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
          const values = valuesOf(record, ['Id']);
          const before = allOrNone ? previousValues(ctx.org, def.name, id, Object.keys(values)) : {};
          ctx.org.update(def.name, id, values);
          undos.push({ run: (org) => org.update(def.name, id, before) });
          results.push({ id, success: true, errors: [] });
        }
      } catch (error) {
        results.push({ id: null, success: false, errors: [collectionError(error)] });
      }
    }
    return { status: 200, body: settle(ctx.org, allOrNone, results, undos) };
  };
}

/** PATCH /composite/sobjects/X/ExtField: upsert by external id. */
export const collectionsUpsert: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const extField = def.fields.find((f) => f.name.toLowerCase() === req.params[1]!.toLowerCase());
  if (!extField || !(extField.externalId || extField.idLookup)) {
    throw new ApiError(
      400,
      'INVALID_FIELD',
      `Field ${req.params[1]} is not an external id field of ${def.name}`,
    );
  }
  const { allOrNone, records } = readRecords(await req.json());
  const results: CollectionResult[] = [];
  const undos: Undo[] = [];
  for (const record of records) {
    try {
      const value = record[extField.name];
      if (value === undefined || value === null || value === '') {
        throw new ApiError(400, 'MISSING_ARGUMENT', `${extField.name} not specified`, [extField.name]);
      }
      const values = valuesOf(record, extField.name === 'Id' ? ['Id'] : []);
      const result = ctx.org.upsert(def.name, extField.name, String(value), values);
      if (result.created) undos.push({ run: (org) => org.discardInserted([result.id]) });
      results.push({ id: result.id, success: true, errors: [], created: result.created });
    } catch (error) {
      results.push({ id: null, success: false, errors: [collectionError(error)] });
    }
  }
  return { status: 200, body: settle(ctx.org, allOrNone, results, undos) };
};

/** DELETE /composite/sobjects?ids=...&allOrNone=... */
export const collectionsDelete: Handler = async (ctx, req) => {
  const ids = (req.query.get('ids') ?? '').split(',').filter((s) => s !== '');
  if (ids.length === 0)
    throw new ApiError(400, 'MISSING_ARGUMENT', 'The ids parameter is required: ids=ID1,ID2,...');
  if (ids.length > MAX_RECORDS) throw tooMany(ids.length);
  const allOrNone = req.query.get('allOrNone') === 'true';
  const results = ctx.org.delete(ids).map(fromWriteResult);
  const deleted = results.filter((r) => r.success).map((r) => r.id as string);
  return {
    status: 200,
    body: settle(ctx.org, allOrNone, results, [{ run: (org) => void org.undelete(deleted) }]),
  };
};

/** GET /composite/sobjects/X?ids=&fields= and POST with {ids, fields}. */
export const collectionsRetrieve: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  let ids: string[];
  let fields: string[];
  if (req.method === 'POST') {
    const body = await req.json();
    if (!isObject(body) || !Array.isArray(body.ids) || !Array.isArray(body.fields)) {
      throw new ApiError(
        400,
        'JSON_PARSER_ERROR',
        'The request body must be {"ids": [...], "fields": [...]}.',
      );
    }
    ids = body.ids.map(String);
    fields = body.fields.map(String);
  } else {
    ids = (req.query.get('ids') ?? '').split(',').filter((s) => s !== '');
    fields = (req.query.get('fields') ?? '').split(',').filter((s) => s !== '');
  }
  if (ids.length === 0 || fields.length === 0) {
    throw new ApiError(400, 'MISSING_ARGUMENT', 'Both ids and fields are required.');
  }
  if (ids.length > 2000) throw tooMany(ids.length);
  const records = ids.map((id) => {
    try {
      return ctx.org.retrieve(def.name, id, fields, req.version);
    } catch {
      return null;
    }
  });
  return { status: 200, body: records };
};
