/**
 * Where a restore writes in the vault. Everything lives under `restores/`, which is the only
 * prefix the restore role may write; the id map is per org so every later restore reuses it.
 */
import { RESTORES_PREFIX } from '../../../contract/workflow-contract.ts';

/** Keys of one org's restores and of one run. */
export const restoreKeys = {
  /** Files holding old id -> new id entries for one object. */
  idMapPrefix: (orgId: string, object: string) => `${RESTORES_PREFIX}${orgId}/id-map/${object}/`,
  idMap: (orgId: string, object: string, batch: string) =>
    `${RESTORES_PREFIX}${orgId}/id-map/${object}/${batch}.json`,
  /** What a batch was about to insert, written before the insert so a crash can be reconciled. */
  intentPrefix: (orgId: string, object: string) => `${RESTORES_PREFIX}${orgId}/intents/${object}/`,
  intent: (orgId: string, object: string, batch: string) =>
    `${RESTORES_PREFIX}${orgId}/intents/${object}/${batch}.json`,
  run: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/`,
  request: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/request.json`,
  plan: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/plan.json`,
  objectPlan: (orgId: string, runId: string, object: string) =>
    `${RESTORES_PREFIX}${orgId}/runs/${runId}/plan/${object}.json`,
  filePlan: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/files.json`,
  /** Per-row outcomes of one step of one object (failed rows with Salesforce's errors). */
  outcome: (orgId: string, runId: string, object: string, step: string) =>
    `${RESTORES_PREFIX}${orgId}/runs/${runId}/outcomes/${object}/${step}.json`,
  outcomePrefix: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/outcomes/`,
  /** What the metadata validation, deploy and read-back found. */
  metadata: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/metadata.json`,
  report: (orgId: string, runId: string) => `${RESTORES_PREFIX}${orgId}/runs/${runId}/report.json`,
};
