import { objectResultKey } from '../snapshot/keys.ts';
import { ObjectExistsError } from '../store.ts';
import type { BackupDeps, ObjectResult } from './types.ts';

/**
 * Writes an object's outcome, once. When an earlier invocation already wrote it and its answer was
 * lost (the workflow then runs the step again), the stored outcome stands if it says the same: the
 * same status and, for an export, the same rows (every part it lists was verified before it was
 * written). Any other outcome already there is an error.
 */
export async function storeObjectResult(
  deps: BackupDeps,
  org: string,
  snapshotId: string,
  result: ObjectResult,
): Promise<void> {
  const key = objectResultKey(org, snapshotId, result.object);
  try {
    await deps.store.put(key, JSON.stringify(result), { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError)) throw error;
    const stored = JSON.parse(new TextDecoder().decode(await deps.store.get(key))) as ObjectResult;
    if (stored.status === result.status && stored.rows === result.rows) return;
    throw error;
  }
}
