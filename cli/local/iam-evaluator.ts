/**
 * The IAM policy evaluator the local runs use to refuse what AWS would refuse. It is a development
 * dependency (its licence, AGPL-3.0-or-later, is not this project's), loaded only by runs that
 * enforce the app's policies: the tests and the local app run. Nothing deployed and no plain
 * `sfbackup` run loads it.
 */
import type * as IamSimulate from '@cloud-copilot/iam-simulate';

const PACKAGE = '@cloud-copilot/iam-simulate';
let loading: Promise<typeof IamSimulate> | undefined;

/** The evaluator module, loaded on first use; a clear error when the development install is missing. */
export function iamEvaluator(): Promise<typeof IamSimulate> {
  loading ??= import(PACKAGE).catch((error: unknown) => {
    loading = undefined;
    throw new Error(
      `Enforcing the app's IAM policies locally needs the development dependency ${PACKAGE}, which could not be loaded (${
        error instanceof Error ? error.message : String(error)
      }). Run \`npm ci\` in the project (not \`npm ci --omit=dev\`), or run without policy enforcement.`,
    );
  }) as Promise<typeof IamSimulate>;
  return loading;
}
