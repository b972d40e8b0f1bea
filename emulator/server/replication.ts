/**
 * The data replication resources over REST: `GET /sobjects/X/deleted/?start=&end=` (sObject Get
 * Deleted) and `GET /sobjects/X/updated/?start=&end=` (sObject Get Updated), API 29.0 and later.
 * The rules live in the org (`emulator/org/replication.ts`); this module reads the parameters and
 * shapes the answers. The SOAP partner calls (`soap-partner.ts`) share `replicationDate`.
 */
import { formatDateTime, parseDateTime } from '../org/values.ts';
import type { Handler, RouteRequest } from './context.ts';
import { ApiError, errors } from './errors.ts';
import { objectFor } from './sobjects.ts';

/** First API version with both resources. */
const FIRST_VERSION = 29;

/** A date and time with at least hours and minutes, and an optional zone (UTC when absent). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses a replication dateTime, or undefined when it is not one. */
export function replicationDate(text: string): Date | undefined {
  const trimmed = text.trim();
  if (!DATE_TIME.test(trimmed)) return undefined;
  const ms = parseDateTime(trimmed);
  return ms === undefined ? undefined : new Date(ms);
}

function dateParam(req: RouteRequest, name: 'start' | 'end'): Date {
  const text = req.query.get(name);
  if (text === null || text.trim() === '') {
    throw new ApiError(400, 'MISSING_ARGUMENT', `${name} not specified`, [name]);
  }
  const date = replicationDate(text);
  if (!date) {
    throw new ApiError(
      400,
      'MALFORMED_QUERY',
      `Malformed Request, ${name} date is not in the correct format: ${text}. Use an ISO 8601 dateTime such as 2024-05-03T15:57:00+00:00, URL-encoded.`,
    );
  }
  return date;
}

function checkVersion(req: RouteRequest): void {
  if (Number(req.version) < FIRST_VERSION) throw errors.notFound();
}

/** GET /sobjects/X/deleted/?start=&end= */
export const getDeletedRest: Handler = async (ctx, req) => {
  checkVersion(req);
  const def = objectFor(ctx, req.params[0]!);
  const result = ctx.org.getDeleted(def.name, dateParam(req, 'start'), dateParam(req, 'end'));
  return {
    status: 200,
    body: {
      deletedRecords: result.deletedRecords.map((r) => ({
        id: r.id,
        deletedDate: formatDateTime(r.deletedDate.getTime()),
      })),
      earliestDateAvailable: formatDateTime(result.earliestDateAvailable.getTime()),
      latestDateCovered: formatDateTime(result.latestDateCovered.getTime()),
    },
  };
};

/** GET /sobjects/X/updated/?start=&end= */
export const getUpdatedRest: Handler = async (ctx, req) => {
  checkVersion(req);
  const def = objectFor(ctx, req.params[0]!);
  const result = ctx.org.getUpdated(def.name, dateParam(req, 'start'), dateParam(req, 'end'));
  return {
    status: 200,
    body: { ids: result.ids, latestDateCovered: formatDateTime(result.latestDateCovered.getTime()) },
  };
};
