import { BACKUP_RETRY_ERRORS } from '../../contract/workflow-contract.ts';
import { compareObject } from '../../lambdas/core/backup/changes.ts';
import { exportObject, readJson, recordObjectFailure } from '../../lambdas/core/backup/export-object.ts';
import { backupFiles, planFiles } from '../../lambdas/core/backup/files.ts';
import { exportWorkerPages } from '../../lambdas/core/backup/parallel-export.ts';
import { finishBackup } from '../../lambdas/core/backup/finish.ts';
import {
  type MetadataLoopState,
  planMetadata,
  retrieveMetadata,
} from '../../lambdas/core/backup/metadata.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { type BackupSettings, parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type {
  BackupDeps,
  BackupRequest,
  ExportInput,
  FinishOutput,
  WorkerProgress,
} from '../../lambdas/core/backup/types.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { MemoryStore } from './memory-store.ts';
import type { FakeSource } from './fake-source.ts';

/** The core steps in the order the state machine runs them, with its retry rule, for unit tests. */
export async function runCore<S extends BackupStore = MemoryStore>(
  source: FakeSource,
  request: BackupRequest,
  settings: Partial<BackupSettings> = {},
  store: S = new MemoryStore() as BackupStore as S,
  clock: () => Date = () => new Date(),
): Promise<{ store: S; finish: FinishOutput; invocations: number }> {
  const deps: BackupDeps = { store, source, clock, sleep: async () => {} };
  const plan = await planBackup(deps, request, parseBackupSettings({ pollIntervalMs: 0, ...settings }));
  if (plan.deferred) throw new Error(plan.deferredReason);
  let invocations = 0;
  for (const { object } of await readJson<{ object: string }[]>(deps, plan.planKey)) {
    let input: ExportInput = { org: request.org, snapshotId: plan.snapshotId, object };
    for (let attempt = 0; ; ) {
      try {
        invocations++;
        const out = await exportObject(deps, input);
        if (out.done) {
          // As the state machine does: an exported object is compared with the chain.
          await compareObject(deps, { org: request.org, snapshotId: plan.snapshotId, object });
          break;
        }
        if (out.parallel) {
          // As the state machine's worker Map does: each worker loops on its share until done.
          await Promise.all(
            out.parallel.workers.map(async (worker) => {
              let progress: WorkerProgress | null = null;
              for (let tries = 0; ; ) {
                try {
                  const done = await exportWorkerPages(deps, { ...input, worker, progress });
                  if (done.done) return;
                  progress = done.progress;
                } catch (error) {
                  const name = (error as Error).name;
                  if (!((BACKUP_RETRY_ERRORS as readonly string[]).includes(name) && ++tries < 3))
                    throw error;
                }
              }
            }),
          );
        }
        input = { ...input, checkpoint: out.checkpoint };
      } catch (error) {
        const name = (error as Error).name;
        if ((BACKUP_RETRY_ERRORS as readonly string[]).includes(name) && ++attempt < 3) continue;
        await recordObjectFailure(deps, {
          ...input,
          // As Step Functions catches a Lambda error: the name, and Lambda's JSON error document.
          error: {
            Error: name,
            Cause: JSON.stringify({ errorType: name, errorMessage: (error as Error).message }),
          },
        });
        break;
      }
    }
  }
  // As the state machine does: the plan is called again until it answers done.
  let files = await planFiles(deps, { org: request.org, snapshotId: plan.snapshotId });
  while (!files.done) files = await planFiles(deps, files);
  for (let batch = 1; batch <= files.batches; batch++) {
    let fetched = await backupFiles(deps, { org: request.org, snapshotId: plan.snapshotId, batch });
    while (!fetched.done) fetched = await backupFiles(deps, fetched);
  }
  // As the state machine does: retried while transient, then caught, and the finish names the gap.
  const retried = async <T>(step: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        const name = (error as Error).name;
        if (!((BACKUP_RETRY_ERRORS as readonly string[]).includes(name) && attempt < 3)) throw error;
      }
    }
  };
  try {
    let metadata: MetadataLoopState = await retried(() =>
      planMetadata(deps, { org: request.org, snapshotId: plan.snapshotId }),
    );
    while (!metadata.done) {
      const state = metadata;
      metadata = await retried(() => retrieveMetadata(deps, state));
    }
  } catch {
    // Caught into $.stepFailure; the run goes on to the finish.
  }
  const finish = await finishBackup(deps, { org: request.org, snapshotId: plan.snapshotId });
  return { store, finish, invocations };
}
