import type { EmulatorContext, Handler, Route, RouteMatch } from './context.ts';
import type { EndpointName } from './faults.ts';
import { identity, token, userinfo } from './oauth.ts';
import { limits, resources, versionsList } from './info.ts';
import {
  blob,
  createRecord,
  deleteRecord,
  describeGlobal,
  describeObject,
  getByExternalId,
  objectInfo,
  retrieveRecord,
  updateRecord,
  upsertRecord,
} from './sobjects.ts';
import { query, queryMore, toolingQuery, toolingQueryMore } from './query.ts';
import { getDeletedRest, getUpdatedRest } from './replication.ts';
import { collectionsDelete, collectionsRetrieve, collectionsSave, collectionsUpsert } from './collections.ts';
import { compositeHandler } from './composite.ts';
import { compositeTree } from './tree.ts';
import { partnerSoap } from './soap-partner.ts';
import { metadataSoap } from './soap-metadata.ts';
import {
  abortOrGetQueryJob,
  createQueryJob,
  deleteQueryJob,
  listQueryJobs,
  queryJobResultPages,
  queryJobResults,
} from './bulk-query.ts';
import {
  createIngestJob,
  deleteIngestJob,
  getIngestJob,
  ingestResults,
  listIngestJobs,
  patchIngestJob,
  uploadIngestData,
} from './bulk-ingest.ts';
import { errors } from './errors.ts';

type RouteSpec = [
  method: string,
  pattern: string,
  endpoint: EndpointName,
  handler: Handler,
  /** The first API version that has the resource; older versions answer as for an unknown path. */
  since?: number,
];

const ID = '([a-zA-Z0-9]{15,18})';
const NAME = '([A-Za-z][A-Za-z0-9_]*)';
const SEGMENT = '([^/]+)';

const notFound: Handler = async () => {
  throw errors.notFound();
};

const dataRoutes: RouteSpec[] = [
  ['GET', '', 'resources', resources],
  ['GET', '/limits', 'limits', limits],
  ['GET', '/sobjects', 'describe-global', describeGlobal],
  ['GET', `/sobjects/${NAME}`, 'describe', objectInfo],
  ['POST', `/sobjects/${NAME}`, 'sobject', createRecord],
  ['GET', `/sobjects/${NAME}/describe`, 'describe', describeObject],
  ['GET', `/sobjects/${NAME}/deleted`, 'sobject', getDeletedRest],
  ['GET', `/sobjects/${NAME}/updated`, 'sobject', getUpdatedRest],
  ['GET', `/sobjects/${NAME}/${ID}`, 'sobject', retrieveRecord],
  ['PATCH', `/sobjects/${NAME}/${ID}`, 'sobject', updateRecord],
  ['DELETE', `/sobjects/${NAME}/${ID}`, 'sobject', deleteRecord],
  ['GET', `/sobjects/${NAME}/${ID}/${NAME}`, 'blob', blob],
  ['GET', `/sobjects/${NAME}/${NAME}/${SEGMENT}`, 'sobject', getByExternalId],
  ['PATCH', `/sobjects/${NAME}/${NAME}/${SEGMENT}`, 'sobject', upsertRecord],
  ['GET', '/query', 'query', query(false)],
  ['GET', '/queryAll', 'query', query(true)],
  ['GET', `/query/${SEGMENT}`, 'query', queryMore],
  ['GET', `/queryAll/${SEGMENT}`, 'query', queryMore],
  ['POST', '/composite', 'composite', compositeHandler(matchRoute)],
  ['GET', `/composite/sobjects/${NAME}`, 'collections', collectionsRetrieve],
  ['POST', `/composite/sobjects/${NAME}`, 'collections', collectionsRetrieve],
  ['POST', '/composite/sobjects', 'collections', collectionsSave('create')],
  ['PATCH', '/composite/sobjects', 'collections', collectionsSave('update')],
  ['DELETE', '/composite/sobjects', 'collections', collectionsDelete],
  ['PATCH', `/composite/sobjects/${NAME}/${NAME}`, 'collections', collectionsUpsert],
  ['POST', `/composite/tree/${NAME}`, 'tree', compositeTree],
  ['POST', '/jobs/query', 'bulk-query', createQueryJob],
  ['GET', '/jobs/query', 'bulk-query', listQueryJobs],
  ['GET', `/jobs/query/${ID}`, 'bulk-query', abortOrGetQueryJob],
  ['PATCH', `/jobs/query/${ID}`, 'bulk-query', abortOrGetQueryJob],
  ['DELETE', `/jobs/query/${ID}`, 'bulk-query', deleteQueryJob],
  ['GET', `/jobs/query/${ID}/results`, 'bulk-results', queryJobResults],
  ['GET', `/jobs/query/${ID}/resultPages`, 'bulk-result-pages', queryJobResultPages, 58],
  ['POST', '/jobs/ingest', 'bulk-ingest', createIngestJob],
  ['GET', '/jobs/ingest', 'bulk-ingest', listIngestJobs],
  ['GET', `/jobs/ingest/${ID}`, 'bulk-ingest', getIngestJob],
  ['PATCH', `/jobs/ingest/${ID}`, 'bulk-ingest', patchIngestJob],
  ['DELETE', `/jobs/ingest/${ID}`, 'bulk-ingest', deleteIngestJob],
  ['PUT', `/jobs/ingest/${ID}/batches`, 'bulk-ingest', uploadIngestData],
  [
    'GET',
    `/jobs/ingest/${ID}/(successfulResults|failedResults|unprocessedrecords)`,
    'bulk-ingest',
    ingestResults,
  ],
  ['GET', '/tooling/query', 'tooling', toolingQuery],
  ['GET', `/tooling/query/${SEGMENT}`, 'tooling', toolingQueryMore],
  ['GET', '/tooling(/.*)?', 'tooling', notFound],
  ['POST', '/tooling(/.*)?', 'tooling', notFound],
];

function compile(): Route[] {
  const routes: Route[] = dataRoutes.map(([method, pattern, endpoint, handler, since]) => ({
    method,
    ...(since === undefined ? {} : { since }),
    pattern: new RegExp(`^${pattern}$`),
    scope: 'data',
    endpoint,
    auth: 'bearer',
    counted: true,
    format: 'json',
    handler,
  }));
  const root = (
    method: string,
    pattern: string,
    endpoint: EndpointName,
    handler: Handler,
    extra: Partial<Route>,
  ): Route => ({
    method,
    pattern: new RegExp(`^${pattern}$`),
    scope: 'root',
    endpoint,
    auth: 'bearer',
    counted: false,
    format: 'json',
    handler,
    ...extra,
  });
  routes.push(
    root('GET', '/services/data', 'versions', versionsList, { auth: 'none' }),
    root('POST', '/services/oauth2/token', 'oauth', token, { auth: 'none', format: 'oauth' }),
    root('GET', '/services/oauth2/userinfo', 'userinfo', userinfo, {}),
    root('POST', '/services/oauth2/userinfo', 'userinfo', userinfo, {}),
    root('GET', `/id/${ID}/${ID}`, 'identity', identity, {}),
    root('POST', '/services/Soap/u/([0-9]+\\.[0-9])', 'soap', partnerSoap, {
      auth: 'none',
      counted: true,
      format: 'soap',
    }),
    root('POST', '/services/Soap/m/([0-9]+\\.[0-9])', 'metadata', metadataSoap, {
      auth: 'none',
      counted: true,
      format: 'soap',
    }),
  );
  return routes;
}

const ROUTES = compile();
const DATA_PREFIX = /^\/services\/data\/v([0-9]+\.[0-9])(\/.*)?$/;

/** Finds the route for a normalised path; undefined when no route has that path. */
export function matchRoute(ctx: EmulatorContext, method: string, path: string): RouteMatch | undefined {
  let scope: 'data' | 'root' = 'root';
  let rest = path;
  let version = ctx.versions[ctx.versions.length - 1]!;
  const data = DATA_PREFIX.exec(path);
  if (data) {
    version = data[1]!;
    if (!ctx.versions.includes(version)) return undefined;
    scope = 'data';
    rest = data[2] ?? '';
  }
  const allowed: string[] = [];
  for (const route of ROUTES) {
    if (route.scope !== scope) continue;
    if (route.since !== undefined && Number(version) < route.since) continue;
    const m = route.pattern.exec(rest);
    if (!m) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    return { route, params: m.slice(1).map((p) => (p === undefined ? '' : decodeURIComponent(p))), version };
  }
  return allowed.length > 0 ? { notAllowed: [...new Set(allowed)] } : undefined;
}
