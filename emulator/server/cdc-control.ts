/**
 * The control surface of Change Data Capture, under `/__emulator/cdc` (not part of Salesforce):
 * the entity selection, the events on the bus, the relay's settings and what it relayed, and the
 * faults. See docs/emulator-cdc.md.
 */
import { ReplayIdNotRetainedError, InvalidChannelError } from '../org/cdc/bus.ts';
import { InvalidChangeDataCaptureSettingError } from '../org/cdc/cdc.ts';
import { InvalidRelaySettingError, type RelaySettings } from '../org/cdc/relay.ts';
import type { OrgApi } from '../org/api.ts';
import type { Reply } from './context.ts';
import { ApiError } from './errors.ts';

function invalid(message: string): ApiError {
  return new ApiError(400, 'INVALID_CONTROL_REQUEST', message);
}

function status(org: OrgApi): Record<string, unknown> {
  const { bus } = org.cdc;
  return {
    selectedEntities: org.cdc.selectedEntities(),
    overflowThreshold: org.cdc.overflowThreshold,
    bus: {
      retained: bus.size,
      earliestReplayId: bus.earliestReplayId ?? null,
      latestReplayId: bus.latestReplayId,
      droppedThrough: bus.droppedThrough,
    },
    relay: org.cdc.relay.describe(),
  };
}

function replayIdParam(query: URLSearchParams): number | undefined {
  const raw = query.get('after');
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw invalid(`after must be a replay id (a whole number, 0 or more); got ${JSON.stringify(raw)}`);
  }
  return n;
}

function settings(org: OrgApi, body: Record<string, unknown>): void {
  const known = ['selectedEntities', 'overflowThreshold'];
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw invalid(`Unknown settings: ${unknown.join(', ')}. Known: ${known.join(', ')}.`);
  if (body.selectedEntities !== undefined) {
    if (!Array.isArray(body.selectedEntities))
      throw invalid('selectedEntities must be a list of object names, for example ["Account"].');
    org.cdc.select(body.selectedEntities as string[]);
  }
  if (body.overflowThreshold !== undefined) org.cdc.overflowThreshold = body.overflowThreshold as number;
}

function relaySettings(org: OrgApi, body: Record<string, unknown>): void {
  const known = ['state', 'replayRecovery', 'channel', 'account', 'region'];
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw invalid(`Unknown relay settings: ${unknown.join(', ')}. Known: ${known.join(', ')}.`);
  org.cdc.relay.configure(body as Partial<RelaySettings>);
}

function faults(org: OrgApi, body: Record<string, unknown>): void {
  const known = ['gap', 'overflow', 'duplicate', 'reorder', 'outageMs'];
  const given = Object.keys(body);
  const unknown = given.filter((k) => !known.includes(k));
  if (unknown.length > 0 || given.length === 0) {
    throw invalid(
      `Give one or more faults: gap (record ids), overflow (an object name), duplicate (a count), reorder (a count), outageMs (milliseconds)${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}.`,
    );
  }
  if (body.gap !== undefined) {
    if (!Array.isArray(body.gap)) throw invalid('gap must be a list of record ids.');
    org.cdc.injectGap(body.gap as string[]);
  }
  if (body.overflow !== undefined) org.cdc.injectOverflow(String(body.overflow));
  if (body.duplicate !== undefined) org.cdc.relay.duplicateNext(body.duplicate as number);
  if (body.reorder !== undefined) org.cdc.relay.reorderNext(body.reorder as number);
  if (body.outageMs !== undefined) org.cdc.relay.outage(body.outageMs as number);
}

/**
 * Answers a `/__emulator/cdc...` request; `route` is `METHOD /cdc...`. Bad input is a 400
 * `INVALID_CONTROL_REQUEST`; a replay id no longer retained is a 410 `REPLAY_ID_NOT_RETAINED`.
 */
export async function handleCdcControl(
  org: OrgApi,
  route: string,
  query: URLSearchParams,
  jsonBody: () => Promise<Record<string, unknown>>,
): Promise<Reply> {
  try {
    switch (route) {
      case 'GET /cdc':
        return { status: 200, body: status(org) };
      case 'POST /cdc':
        settings(org, await jsonBody());
        return { status: 200, body: status(org) };
      case 'GET /cdc/events':
        return {
          status: 200,
          body: { events: org.cdc.events(replayIdParam(query), query.get('channel') ?? undefined) },
        };
      case 'GET /cdc/relay':
        return { status: 200, body: org.cdc.relay.describe() };
      case 'POST /cdc/relay':
        relaySettings(org, await jsonBody());
        return { status: 200, body: org.cdc.relay.describe() };
      case 'GET /cdc/relayed':
        return { status: 200, body: { events: org.cdc.relay.relayed(replayIdParam(query)) } };
      case 'POST /cdc/faults':
        faults(org, await jsonBody());
        return { status: 200, body: status(org) };
      default:
        throw new ApiError(
          404,
          'NOT_FOUND',
          `Unknown control endpoint ${route}. Known: GET|POST cdc, GET cdc/events, GET|POST cdc/relay, GET cdc/relayed, POST cdc/faults.`,
        );
    }
  } catch (error) {
    if (error instanceof ReplayIdNotRetainedError)
      throw new ApiError(410, 'REPLAY_ID_NOT_RETAINED', error.message);
    if (
      error instanceof InvalidChangeDataCaptureSettingError ||
      error instanceof InvalidRelaySettingError ||
      error instanceof InvalidChannelError
    ) {
      throw invalid(error.message);
    }
    throw error;
  }
}
