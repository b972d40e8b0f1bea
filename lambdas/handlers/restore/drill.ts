import type { RestoreDeps } from '../../core/restore/workflow.ts';

/** Standard objects a drill restores besides every custom object, when the config names none. */
const DRILL_STANDARD_OBJECTS = ['Account', 'Contact', 'Lead', 'Opportunity', 'Case', 'Campaign', 'Product2'];

/** A scheduled drill's input: the drill marker and any restore fields it sets itself. */
export interface DrillRequest {
  readonly objects?: readonly string[] | undefined;
  readonly [field: string]: unknown;
}

/**
 * Turns a scheduled drill's input into a restore input: the latest snapshot (unless named), the
 * objects the input or the config names (default: every custom object and the main standard ones
 * in the snapshot), mode full, confirmed for the sandbox the drill's credentials reach, which the
 * config has already checked is a sandbox.
 */
export async function drillInput(
  request: DrillRequest,
  configured: readonly string[] | undefined,
  deps: RestoreDeps,
): Promise<Record<string, unknown>> {
  const { drill: _drill, ...rest } = request;
  const { orgId } = await deps.org.identity();
  let objects = request.objects ?? configured;
  if (!objects || objects.length === 0) {
    const snapshot = await deps.snapshots.resolve(orgId, { kind: 'latest' });
    objects = snapshot.objects().filter((o) => o.endsWith('__c') || DRILL_STANDARD_OBJECTS.includes(o));
  }
  return { snapshot: 'latest', mode: 'full', ...rest, objects, confirmOrgId: orgId };
}
