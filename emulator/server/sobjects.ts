import type { ObjectDef } from '../org/api.ts';
import { isObject } from './body.ts';
import type { EmulatorContext, Handler, RouteRequest } from './context.ts';
import { globalEntry, objectDescribe } from './describe-shapes.ts';
import { ApiError, errors } from './errors.ts';
import { parseMultipart } from './multipart.ts';

/** The object named in the path, or Salesforce's NOT_FOUND for an unknown type. */
export function objectFor(ctx: EmulatorContext, name: string): ObjectDef {
  const def = ctx.org.findObject(name);
  if (!def) throw errors.invalidType(name);
  return def;
}

/** A write body: a JSON object without `attributes`. */
export function recordValues(body: unknown): Record<string, unknown> {
  if (!isObject(body)) {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object of field values.');
  }
  const { attributes: _ignored, ...values } = body;
  return values;
}

/** Checks that an id belongs to the object in the path (Salesforce answers NOT_FOUND otherwise). */
function checkIdMatches(ctx: EmulatorContext, def: ObjectDef, id: string): void {
  const owner = ctx.org.objectForId(id);
  if (!owner || owner.name !== def.name) {
    throw new ApiError(
      404,
      'NOT_FOUND',
      `The requested resource does not exist: no ${def.name} with id ${id}`,
    );
  }
}

/** GET /sobjects */
export const describeGlobal: Handler = async (ctx, req) => ({
  status: 200,
  body: {
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: ctx.org.describeGlobal().map((d) => globalEntry(d, req.version)),
  },
});

/** GET /sobjects/X: basic information. */
export const objectInfo: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  return { status: 200, body: { objectDescribe: globalEntry(def, req.version), recentItems: [] } };
};

/** GET /sobjects/X/describe */
export const describeObject: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  return { status: 200, body: objectDescribe(ctx.org.describe(def.name), req.version, ctx.org.settings) };
};

/**
 * Values of a multipart insert: a JSON part (`entity_content`, `entity_document`, ...) with the
 * fields, plus a binary part named after the blob field (`VersionData`, `Body`).
 */
async function multipartValues(
  def: ObjectDef,
  req: RouteRequest,
  contentType: string,
): Promise<Record<string, unknown>> {
  const parts = parseMultipart(contentType, await req.body());
  const json = parts.find((p) => p.name.startsWith('entity_') || p.contentType?.includes('json'));
  if (!json) {
    throw new ApiError(
      400,
      'MALFORMED_REQUEST',
      'The multipart body needs a JSON part named entity_content with the fields.',
    );
  }
  let fields: unknown;
  try {
    fields = JSON.parse(json.data.toString('utf8'));
  } catch (error) {
    throw errors.badJson(`The ${json.name} part is not JSON: ${(error as Error).message}`);
  }
  const values = recordValues(fields);
  for (const part of parts) {
    if (part === json) continue;
    const field = def.fields.find(
      (f) => f.type === 'base64' && f.name.toLowerCase() === part.name.toLowerCase(),
    );
    if (!field) throw errors.invalidField(`No such binary field on ${def.name}: ${part.name}`);
    values[field.name] = new Uint8Array(part.data);
  }
  return values;
}

/** POST /sobjects/X: create one record (JSON, or multipart with a binary part for blob fields). */
export const createRecord: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const contentType = req.raw.headers['content-type'] ?? '';
  const values = contentType.toLowerCase().startsWith('multipart/')
    ? await multipartValues(def, req, contentType)
    : recordValues(await req.json());
  const id = ctx.org.insert(def.name, values);
  return { status: 201, body: { id, success: true, errors: [] } };
};

function fieldsParam(req: RouteRequest): string[] | undefined {
  const fields = req.query.get('fields');
  return fields
    ? fields
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== '')
    : undefined;
}

/** GET /sobjects/X/ID */
export const retrieveRecord: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const id = req.params[1]!;
  checkIdMatches(ctx, def, id);
  return { status: 200, body: ctx.org.retrieve(def.name, id, fieldsParam(req), req.version) };
};

/** PATCH /sobjects/X/ID */
export const updateRecord: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const id = req.params[1]!;
  checkIdMatches(ctx, def, id);
  ctx.org.update(def.name, id, recordValues(await req.json()));
  return { status: 204 };
};

/** DELETE /sobjects/X/ID */
export const deleteRecord: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const id = req.params[1]!;
  checkIdMatches(ctx, def, id);
  const [result] = ctx.org.delete([id]);
  if (result && !result.success) {
    const first = result.errors[0];
    const code = first?.errorCode ?? 'UNKNOWN_EXCEPTION';
    const status = code === 'ENTITY_IS_DELETED' || code === 'NOT_FOUND' ? 404 : 400;
    throw new ApiError(status, code, first?.message ?? 'Delete failed', [...(first?.fields ?? [])]);
  }
  return { status: 204 };
};

/** GET /sobjects/X/ID/Field: a blob field's bytes. */
export const blob: Handler = async (ctx, req, res) => {
  const def = objectFor(ctx, req.params[0]!);
  const id = req.params[1]!;
  const fieldName = req.params[2]!;
  const field = def.fields.find((f) => f.name.toLowerCase() === fieldName.toLowerCase());
  if (field?.type !== 'base64') throw errors.notFound();
  checkIdMatches(ctx, def, id);
  const bytes = ctx.org.getBlob(def.name, id, field.name);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
  res.end(bytes);
  return undefined;
};

/** Quotes a value for a SOQL string literal. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function externalIdField(def: ObjectDef, name: string) {
  const field = def.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
  if (!field || !(field.externalId || field.idLookup || field.name === 'Id')) {
    throw new ApiError(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${name}`,
    );
  }
  return field;
}

/** GET /sobjects/X/ExtField/Value: retrieve by external id. */
export const getByExternalId: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const field = externalIdField(def, req.params[1]!);
  const cursor = ctx.org.query(
    `SELECT Id FROM ${def.name} WHERE ${field.name} = ${soqlString(req.params[2]!)}`,
  );
  const ids = [...cursor.rows()].map((r) => String(r[0]));
  if (ids.length === 0) throw errors.notFound();
  if (ids.length > 1) {
    return {
      status: 300,
      body: ids.map((id) => `/services/data/v${req.version}/sobjects/${def.name}/${id}`),
    };
  }
  return { status: 200, body: ctx.org.retrieve(def.name, ids[0]!, fieldsParam(req), req.version) };
};

/** PATCH /sobjects/X/ExtField/Value: upsert by external id. */
export const upsertRecord: Handler = async (ctx, req) => {
  const def = objectFor(ctx, req.params[0]!);
  const field = externalIdField(def, req.params[1]!);
  const result = ctx.org.upsert(def.name, field.name, req.params[2]!, recordValues(await req.json()));
  return {
    status: result.created ? 201 : 200,
    body: { id: result.id, success: true, errors: [], created: result.created },
  };
};
