import type { ObjectDef } from '../org/api.ts';
import { isObject } from './body.ts';
import type { EmulatorContext, Handler } from './context.ts';
import { ApiError } from './errors.ts';
import { objectFor } from './sobjects.ts';
import { type CollectionError, collectionError } from './write-results.ts';

const MAX_RECORDS = 200;

interface TreeRecord {
  readonly def: ObjectDef;
  readonly referenceId: string;
  readonly values: Record<string, unknown>;
  readonly children: { field: string; records: TreeRecord[] }[];
}

function parseRecord(
  ctx: EmulatorContext,
  raw: unknown,
  expectedType: string | undefined,
  count: { n: number },
): TreeRecord {
  if (!isObject(raw) || !isObject(raw.attributes)) {
    throw new ApiError(400, 'INVALID_INPUT', 'Each record needs "attributes": {"type", "referenceId"}.');
  }
  count.n += 1;
  if (count.n > MAX_RECORDS) {
    throw new ApiError(400, 'LIMIT_EXCEEDED', `A tree request can hold at most ${MAX_RECORDS} records.`);
  }
  const type = typeof raw.attributes.type === 'string' ? raw.attributes.type : expectedType;
  if (!type) throw new ApiError(400, 'INVALID_INPUT', 'A record has no attributes.type.');
  const def = objectFor(ctx, type);
  const referenceId = String(raw.attributes.referenceId ?? '');
  if (referenceId === '')
    throw new ApiError(400, 'INVALID_INPUT', `A ${def.name} record has no attributes.referenceId.`);
  const values: Record<string, unknown> = {};
  const children: TreeRecord['children'] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'attributes') continue;
    const rel = def.childRelationships.find((c) => c.relationshipName?.toLowerCase() === key.toLowerCase());
    if (rel && isObject(value) && Array.isArray(value.records)) {
      children.push({
        field: rel.field,
        records: value.records.map((r) => parseRecord(ctx, r, rel.childSObject, count)),
      });
      continue;
    }
    values[key] = value;
  }
  return { def, referenceId, values, children };
}

/** POST /composite/tree/X: inserts record trees; all or nothing. */
export const compositeTree: Handler = async (ctx, req) => {
  const root = objectFor(ctx, req.params[0]!);
  const body = await req.json();
  if (!isObject(body) || !Array.isArray(body.records)) {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be {"records": [...]}.');
  }
  const count = { n: 0 };
  const trees = body.records.map((r) => parseRecord(ctx, r, root.name, count));
  const inserted: string[] = [];
  const results: { referenceId: string; id: string }[] = [];
  const seen = new Set<string>();
  let failure: { referenceId: string; errors: CollectionError[] } | undefined;
  const insert = (record: TreeRecord, parent?: { field: string; id: string }) => {
    if (failure) return;
    if (seen.has(record.referenceId)) {
      failure = {
        referenceId: record.referenceId,
        errors: [
          {
            statusCode: 'INVALID_INPUT',
            message: `Duplicate ReferenceId provided in the request: ${record.referenceId}`,
            fields: [],
          },
        ],
      };
      return;
    }
    seen.add(record.referenceId);
    try {
      const values = parent ? { ...record.values, [parent.field]: parent.id } : record.values;
      const id = ctx.org.insert(record.def.name, values);
      inserted.push(id);
      results.push({ referenceId: record.referenceId, id });
      for (const child of record.children)
        for (const c of child.records) insert(c, { field: child.field, id });
    } catch (error) {
      failure = { referenceId: record.referenceId, errors: [collectionError(error)] };
    }
  };
  for (const tree of trees) insert(tree);
  if (failure) {
    if (inserted.length > 0) ctx.org.discardInserted(inserted.reverse());
    // The import is rolled back as a whole: none of its records publishes a change event.
    ctx.org.cdc.capture.rollback();
    return { status: 400, body: { hasErrors: true, results: [failure] } };
  }
  return { status: 201, body: { hasErrors: false, results } };
};
