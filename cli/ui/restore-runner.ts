/**
 * Runs restores for the ui, in the order the console asks for them: a dry run first, and a real
 * run only of an input whose dry run succeeded, with the org id typed to confirm it. Each dry run
 * allows one real run, of the very input it planned, so every write to the org follows a plan the
 * user has just seen.
 */
import { randomUUID } from 'node:crypto';
import { orgKeyOfId } from '../../contract/org-id.ts';
import { parseRestoreInput, RESTORE_MODES, type RestoreMode } from '../../lambdas/core/restore/input.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { SnapshotSelector } from '../../lambdas/core/restore/model.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import type { LocalRestoreOptions, RestoreSummary } from '../commands/restore.ts';
import type { LocalStoreSpec, OrgConnection } from '../commands/options.ts';
import { BadRequestError } from './server.ts';

/** What the page shows of a run: the plan or verification summary and where its files are. */
export interface RunOutcome {
  readonly status: RestoreSummary['status'];
  readonly mode: string | null;
  readonly error: string | null;
  readonly message: string;
  readonly planKey: string | null;
  readonly reportKey: string | null;
}

/** A dry run's answer: its outcome, and the id a real run of the same input must name. */
export interface DryRunOutcome extends RunOutcome {
  /** Present only when the dry run succeeded. */
  readonly dryRunId: string | null;
  /** The mode the real run will use. */
  readonly realMode: RestoreMode;
}

/** Where restores go and how they are run. */
export interface RestoreRunnerOptions {
  readonly connection: OrgConnection;
  readonly store: LocalStoreSpec;
  /** The same vault, read to check that an input names one of its snapshots. */
  readonly vault: BackupStore;
  readonly org: string;
  /** Runs one restore; `runLocalRestore` unless a test gives another. */
  readonly run: (options: LocalRestoreOptions) => Promise<{ summary: RestoreSummary }>;
}

const WRITING_MODES: readonly RestoreMode[] = RESTORE_MODES.filter((m) => m !== 'dry-run');

/** Dry runs and confirmed restores of inputs built in the ui. */
export class RestoreRunner {
  private readonly dryRuns = new Map<
    string,
    { input: Readonly<Record<string, unknown>>; realMode: RestoreMode }
  >();
  private busy = false;

  constructor(private readonly options: RestoreRunnerOptions) {}

  /**
   * Runs the input as a dry run, whatever mode it names, and remembers it for one real run in
   * `realMode` (the input's own mode when that writes, else the one given). The input must name
   * its snapshot by id: "latest", a date or a pointInTime could resolve to another snapshot by the
   * time the real run starts, which would then restore from a snapshot whose plan nobody saw.
   */
  async dryRun(raw: unknown, realMode: unknown): Promise<DryRunOutcome> {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new BadRequestError('input must be the restore input as a JSON object.');
    }
    // A copy of its own: nothing the caller holds can change what the real run restores.
    const input: Record<string, unknown> = structuredClone(raw as Record<string, unknown>);
    const mode = typeof input.mode === 'string' && input.mode !== 'dry-run' ? input.mode : realMode;
    delete input.confirmOrgId;
    input.mode = 'dry-run';
    // Checked here so that a malformed input is answered at once, before the app is synthesized.
    const parsed = parseRestoreInput(input);
    if (!WRITING_MODES.includes(mode as RestoreMode)) {
      throw new BadRequestError(
        `realMode is ${JSON.stringify(mode)}: choose the mode the real run will use, one of ${WRITING_MODES.join(', ')}.`,
      );
    }
    await this.checkSnapshotId(parsed.snapshot, parsed.snapshotText);
    const outcome = await this.exclusive(input);
    let dryRunId: string | null = null;
    if (outcome.status === 'SUCCEEDED') {
      dryRunId = randomUUID();
      this.dryRuns.set(dryRunId, { input: Object.freeze(input), realMode: mode as RestoreMode });
    }
    return { ...outcome, dryRunId, realMode: mode as RestoreMode };
  }

  /**
   * Runs for real the input of a succeeded dry run, once, confirmed with the target org's id: the
   * dry run's input with only its mode and confirmOrgId changed.
   */
  async run(dryRunId: string, confirmOrgId: string): Promise<RunOutcome> {
    // A mistyped id costs nothing: the dry run stays usable.
    if (orgKeyOfId(confirmOrgId) === undefined) {
      throw new BadRequestError(
        `"${confirmOrgId}" is not an org id: type the target org's id, 15 or 18 letters and digits starting with 00D, in any case (Setup > Company Information).`,
      );
    }
    const dry = this.dryRuns.get(dryRunId);
    if (!dry) {
      throw new BadRequestError(
        'No succeeded dry run has that id (each dry run allows one real run): run the dry run again, read its plan, then confirm.',
      );
    }
    this.dryRuns.delete(dryRunId);
    return this.exclusive({ ...dry.input, mode: dry.realMode, confirmOrgId: confirmOrgId.trim() });
  }

  /** Refuses a snapshot named otherwise than by the id of one of the vault's complete snapshots. */
  private async checkSnapshotId(snapshot: SnapshotSelector, text: string): Promise<void> {
    if (snapshot.kind !== 'id') {
      const named =
        snapshot.kind === 'instant'
          ? `pointInTime ${JSON.stringify(text)}`
          : `snapshot ${JSON.stringify(text)}`;
      throw new BadRequestError(
        `The input names ${named}, which the real run would resolve again, perhaps to a snapshot finished since the dry run: name the snapshot by its id instead (the restore input builder does), and leave out pointInTime.`,
      );
    }
    const { org, vault } = this.options;
    const entry = (await new SnapshotReader(vault).catalog(org)).find((e) => e.snapshotId === snapshot.id);
    if (entry?.status !== 'complete') {
      throw new BadRequestError(
        `Org ${org} has no complete snapshot ${snapshot.id} in this vault: give the id of a complete one (the timeline lists them).`,
      );
    }
  }

  private async exclusive(input: Record<string, unknown>): Promise<RunOutcome> {
    if (this.busy) throw new BadRequestError('A restore is already running: wait for it to finish.');
    this.busy = true;
    try {
      const { connection, store, org } = this.options;
      const { summary } = await this.options.run({ ...connection, store, org, input });
      return {
        status: summary.status,
        mode: summary.mode,
        error: summary.error,
        message: summary.message,
        planKey: summary.planKey,
        reportKey: summary.reportKey,
      };
    } finally {
      this.busy = false;
    }
  }
}
