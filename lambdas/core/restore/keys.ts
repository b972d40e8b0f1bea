/**
 * Where a restore writes in the vault. Every record of a restore lives under its root,
 * `restores/<configured org name>/<Salesforce org id>/`: the configured org's restore role may
 * read and write under `restores/<its name>/` only, and the id map is per Salesforce org restored
 * into (a drill restores into a sandbox, a different org) so every later restore reuses it.
 */
import { restorePrefixOf } from '../../../contract/workflow-contract.ts';
import { checkOrgKey } from '../snapshot/keys.ts';
import { InvalidRestoreStateError } from './errors.ts';
import { ORG_ID } from './input.ts';

/**
 * The root of the records the restores of configured org `orgName` keep about Salesforce org
 * `orgId`. The name is checked like a config org name (it is a vault prefix), the id like an org id.
 */
export function restoreRoot(orgName: string, orgId: string): string {
  if (!ORG_ID.test(orgId)) {
    throw new InvalidRestoreStateError(
      `"${orgId}" is not a Salesforce org id (00D followed by 12 or 15 letters or digits): the restore's records cannot be placed in the vault.`,
    );
  }
  return `${restorePrefixOf(checkOrgKey(orgName))}${orgId}/`;
}

/**
 * How a lease root is named to a person: for a restore root, the Salesforce org and the configured
 * org whose restores these are; for an org's own prefix (its vault lease), that configured org.
 */
export function describeRoot(root: string): string {
  const [, orgName, orgId] = root.split('/');
  return orgId
    ? `org ${orgId} (restores of configured org ${orgName})`
    : `the backups of configured org ${orgName}`;
}

/** Keys of the restores of one root, and of one run. */
export const restoreKeys = {
  /** Files holding old id -> new id entries for every object. */
  idMapRoot: (root: string) => `${root}id-map/`,
  /** Files holding old id -> new id entries for one object. */
  idMapPrefix: (root: string, object: string) => `${root}id-map/${object}/`,
  idMap: (root: string, object: string, batch: string) => `${root}id-map/${object}/${batch}.json`,
  /** What a batch was about to insert, written before the insert so a crash can be reconciled. */
  intentPrefix: (root: string, object: string) => `${root}intents/${object}/`,
  intent: (root: string, object: string, batch: string) => `${root}intents/${object}/${batch}.json`,
  run: (root: string, runId: string) => `${root}runs/${runId}/`,
  request: (root: string, runId: string) => `${root}runs/${runId}/request.json`,
  plan: (root: string, runId: string) => `${root}runs/${runId}/plan.json`,
  objectPlan: (root: string, runId: string, object: string) => `${root}runs/${runId}/plan/${object}.json`,
  filePlan: (root: string, runId: string) => `${root}runs/${runId}/files.json`,
  /** What the snapshot holds of the planned files, a record of them at a time, in plan order. */
  fileDetails: (root: string, runId: string, record: number) =>
    `${root}runs/${runId}/files/details-${String(record).padStart(6, '0')}.json`,
  /** What the check of the restored files found from plan entry `from` on, and where it stopped. */
  fileCheck: (root: string, runId: string, from: number) =>
    `${root}runs/${runId}/file-checks/${String(from).padStart(9, '0')}.json`,
  /** What verification found of the object at `index` of the plan's order. */
  rowCheck: (root: string, runId: string, index: number, object: string) =>
    `${root}runs/${runId}/row-checks/${String(index).padStart(5, '0')}-${object}.json`,
  /** Every way the restored files differ from the snapshot, as verification found them. */
  fileProblems: (root: string, runId: string) => `${root}runs/${runId}/file-problems.json`,
  /** Per-row outcomes of one step of one object (failed rows with Salesforce's errors). */
  outcome: (root: string, runId: string, object: string, step: string) =>
    `${root}runs/${runId}/outcomes/${object}/${step}.json`,
  outcomePrefix: (root: string, runId: string) => `${root}runs/${runId}/outcomes/`,
  /** What the metadata validation, deploy and read-back found. */
  metadata: (root: string, runId: string) => `${root}runs/${runId}/metadata.json`,
  report: (root: string, runId: string) => `${root}runs/${runId}/report.json`,
};
