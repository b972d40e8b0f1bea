/**
 * A fault-injection campaign over the synthesized backup and restore workflows, run locally on
 * the CLI's own path against the org emulator and a directory vault: faults at rising rates,
 * every task stopped (StopExecution) or crashed (a Lambda that died or timed out) before and
 * after its work, then the next scheduled backup or the same restore again; concurrent runs of
 * each workflow. After every run it checks that backups and restores never lie (see
 * invariants.ts) and counts what happened.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackupSummary, runLocalBackup } from '../../cli/commands/backup.ts';
import { deleteRows, hardDeleteRows, importRows, liveIds } from '../../cli/commands/demo-org.ts';
import { type RestoreSummary, runLocalRestore } from '../../cli/commands/restore.ts';
import type { TaskStep } from '../../cli/local/index.ts';
import { ErrorName, RESTORE_INPUT_REJECTED_ERRORS } from '../../contract/workflow-contract.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { FAILED_EXECUTION_STATUSES } from '../../lib/alerting.ts';
import { restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { releaseLease } from '../../lambdas/core/restore/lease.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { dumpRows } from '../backup/e2e-support.ts';
import {
  duplicatedKeys,
  INVARIANTS,
  type Invariant,
  type OrgDump,
  readLatestPointer,
  restoredScopeDiffers,
  snapshotDiffers,
  snapshotIntegrity,
} from './invariants.ts';

/** What a campaign runs. */
export interface CampaignOptions {
  /** The emulator's generated org (emulator/generate). */
  readonly generate: string;
  /** The objects the backups include (`includeObjects`). */
  readonly objects: readonly string[];
  /** The objects the restores bring back; disasters strike these only. Each needs a natural key. */
  readonly restoreObjects: readonly string[];
  /** Backup runs the campaign makes at least (kills and their follow-up runs count). */
  readonly minBackups: number;
  /** Restore runs the campaign makes at least. */
  readonly minRestores: number;
  /** Pairs of backups, then of restores, run at the same time. */
  readonly concurrentPairs: number;
  /** The fault rate the campaign rises to, from 0 (1: every fault kind at its full weight). */
  readonly maxFaultRate: number;
  /** Kill each task both ways, stopped and crashed; otherwise the two alternate from task to task. */
  readonly crashEveryTask: boolean;
  /** Kill each restore task before and after its work; otherwise the two alternate from task to task. */
  readonly restoreKillsBothPhases: boolean;
  /** Back up metadata on full runs. */
  readonly metadata: boolean;
  /** Seeds the fault dice and the choice of rows each disaster strikes. */
  readonly seed: number;
  /** Receives one line per run. @default - silent */
  readonly log?: (line: string) => void;
}

/** How one run ended, as the campaign sorts them. */
export type Outcome =
  | 'complete'
  | 'failed with alert'
  | 'failed without alert'
  | 'refused'
  | 'deferred'
  | 'stopped'
  | 'crashed with alert';

/** One violated invariant, in one run. */
export interface Violation {
  readonly invariant: Invariant;
  readonly run: string;
  readonly problems: readonly string[];
}

/** What a campaign did and found. */
export interface CampaignReport {
  readonly runs: { backup: number; restore: number };
  readonly outcomes: { backup: Record<Outcome, number>; restore: Record<Outcome, number> };
  /** Faults the emulator injected, by kind. */
  readonly faults: Record<string, number>;
  readonly kills: { stop: number; crash: number };
  /** The kill points each workflow reached (`before <state>`, `after <state>`). */
  readonly killedStates: { backup: readonly string[]; restore: readonly string[] };
  readonly violations: readonly Violation[];
  /** Runs that violated each invariant. */
  readonly violatedRuns: Record<Invariant, number>;
  readonly seconds: number;
}

/** The default campaign: a tiny org, so that CI runs it in a few minutes on two cores. */
export const DEFAULT_CAMPAIGN: CampaignOptions = {
  generate: 'objects=2,rows=30,files=0,accounts=4,activities=0,fields=12,seed=7',
  objects: ['Account', 'Contact', 'Gen_Object_0001__c', 'Gen_Object_0002__c'],
  restoreObjects: ['Gen_Object_0001__c', 'Gen_Object_0002__c'],
  minBackups: 60,
  minRestores: 20,
  concurrentPairs: 3,
  maxFaultRate: 0.6,
  crashEveryTask: false,
  restoreKillsBothPhases: false,
  metadata: false,
  seed: 1,
};

/** Each fault kind, where it strikes and its weight at rate 1. */
const FAULTS: readonly (readonly [endpoint: string, kind: string, weight: number])[] = [
  ['*', '503', 0.2],
  ['*', '500', 0.05],
  ['*', 'rate-limit', 0.1],
  ['*', 'expired-session', 0.05],
  ['bulk-results', 'cut', 0.4],
  ['query', 'cut=200', 0.1],
  ['collections', 'cut=5', 0.3],
  ['bulk-query', 'bulk-fail', 0.3],
  ['bulk-ingest', 'bulk-fail', 0.3],
  ['*', 'latency=3ms', 1],
];
/** Turns a rule gets, so that the emulator counts down what fired. */
const TURNS = 1_000_000;
const ORG = 'campaign';

/** A Lambda that died or timed out, as Step Functions names it. */
class LambdaCrash extends Error {
  override readonly name = 'Lambda.Unknown';
}

/** Where a run is killed: at the first time any execution of it reaches this step. */
interface KillPoint {
  readonly state: string;
  readonly phase: TaskStep['phase'];
  readonly kind: 'stop' | 'crash';
}

/** The tasks a run performed, in the order first seen, as `state` names. */
type TaskLog = string[];

const emptyOutcomes = (): Record<Outcome, number> => ({
  complete: 0,
  'failed with alert': 0,
  'failed without alert': 0,
  refused: 0,
  deferred: 0,
  stopped: 0,
  'crashed with alert': 0,
});

/** Runs a campaign on its own emulator and vault, and reports what it found. */
export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const emu = await startEmulator({ generate: options.generate });
  try {
    return await new Campaign(emu, options).run();
  } finally {
    await emu.stop();
  }
}

class Campaign {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sfbackup-campaign-'));
  private readonly store = new LocalDirectoryStore(this.dir);
  private readonly reader = new SnapshotReader(this.store);
  private readonly started = Date.now();
  private readonly runs = { backup: 0, restore: 0 };
  private readonly outcomes = { backup: emptyOutcomes(), restore: emptyOutcomes() };
  private readonly faults: Record<string, number> = {};
  private readonly kills = { stop: 0, crash: 0 };
  private readonly killed = { backup: new Set<string>(), restore: new Set<string>() };
  private readonly violations: Violation[] = [];
  /** Org states during backup runs: the org does not change while backups run. */
  private readonly states: { from: number; to: number; dump: OrgDump }[] = [];
  private readonly checked = new Set<string>();
  private readonly hardDeleted = new Set<string>();
  private pointerLast: string | undefined;
  /** The most live rows seen sharing each natural key, where more than one did. */
  private readonly duplicates = new Map<string, number>();
  /** Ids of the restored objects' rows in the snapshot the restores bring back. */
  private readonly baseIds = new Set<string>();
  /** Restore executions whose lease the campaign has not let expire. */
  private readonly restoreRunIds: string[] = [];
  private planned = 1;
  private dice: number;
  private mutation = 0;

  constructor(
    private readonly emu: RunningEmulator,
    private readonly options: CampaignOptions,
  ) {
    this.dice = options.seed;
  }

  async run(): Promise<CampaignReport> {
    const { options } = this;
    const restoreKills = (options.restoreKillsBothPhases ? 2 : 1) * 9 * (options.crashEveryTask ? 2 : 1);
    this.planned = Math.max(options.minBackups, 40) + Math.max(options.minRestores, restoreKills * 2);

    // The tasks each workflow performs, seen on clean runs, are the places to kill it.
    const fullTasks: TaskLog = [];
    const incrementalTasks: TaskLog = [];
    await this.backup('full', { tasks: fullTasks, label: 'discover full' });
    await this.mutate();
    await this.backup('incremental', { tasks: incrementalTasks, label: 'discover incremental' });
    const backupTasks = [...incrementalTasks, ...fullTasks.filter((t) => !incrementalTasks.includes(t))];
    for (const point of this.killPoints(backupTasks)) {
      await this.mutate();
      // A task only a full run performs (the metadata retrieve) is killed in a full run.
      await this.backup(incrementalTasks.includes(point.state) ? 'incremental' : 'full', {
        kill: point,
        label: `kill ${point.kind} ${point.phase} ${point.state}`,
      });
      await this.backup('incremental', { label: `after kill at ${point.state}` });
    }
    for (let i = 0; i < options.concurrentPairs; i++) {
      await this.mutate();
      await this.concurrentBackups(i % 2 === 0 ? 'full' : 'incremental', i);
    }
    let n = 0;
    while (this.runs.backup < options.minBackups) {
      await this.mutate();
      await this.backup(n++ % 5 === 0 ? 'full' : 'incremental', { label: 'scheduled' });
    }

    // The restores bring the org back to one clean snapshot, again and again.
    await this.backup('full', { label: 'restore base', faultFree: true });
    const base = await this.reader.latestComplete(ORG, { data: true });
    if (!base) throw new Error('The campaign has no complete snapshot to restore from: every backup failed.');
    const basePit = await this.reader.pointInTime(ORG, base.snapshotId);
    for (const object of options.restoreObjects)
      for await (const row of basePit.rows(object)) this.baseIds.add(row.id);
    const restoreTasks: TaskLog = [];
    await this.disaster();
    await this.restoreUntilDone(base.snapshotId, { tasks: restoreTasks, label: 'discover' });
    for (const point of this.killPoints(restoreTasks, options.restoreKillsBothPhases)) {
      await this.disaster();
      await this.restoreUntilDone(base.snapshotId, {
        kill: point,
        label: `kill ${point.kind} ${point.phase} ${point.state}`,
      });
    }
    for (let i = 0; i < options.concurrentPairs; i++) {
      await this.disaster();
      await this.concurrentRestores(base.snapshotId, i);
    }
    while (this.runs.restore < options.minRestores) {
      await this.disaster();
      await this.restoreUntilDone(base.snapshotId, { label: 'restore' });
    }
    return this.report();
  }

  // ---------------------------------------------------------------- backups

  private async backup(
    mode: 'full' | 'incremental',
    run: { label: string; kill?: KillPoint; tasks?: TaskLog; faultFree?: boolean },
  ): Promise<void> {
    const label = `backup ${this.runs.backup + 1} (${mode}, ${run.label})`;
    const dump = await dumpRows(this.emu);
    const from = Date.now();
    await this.setFaults(run.faultFree || run.tasks ? 0 : this.rate());
    const { summary, sns, killedBy } = await this.backupRun(mode, run.kill, run.tasks, label);
    await this.collectFaults();
    this.states.push({ from, to: Date.now(), dump });
    this.runs.backup += 1;
    const outcome = backupOutcome(summary, sns, killedBy);
    this.outcomes.backup[outcome] += 1;
    await this.checkSnapshots(label);
    const why =
      outcome === 'complete'
        ? ''
        : ` (${summary.execution.error ?? ''}: ${summary.problems.join('; ').slice(0, 200)})`;
    this.options.log?.(
      `${label}: ${outcome}${why} at fault rate ${this.lastRate.toFixed(2)}, ${Date.now() - from} ms`,
    );
  }

  private async backupRun(
    mode: 'full' | 'incremental',
    kill: KillPoint | undefined,
    tasks: TaskLog | undefined,
    label: string,
    gate?: Gate,
  ): Promise<{ summary: BackupSummary; sns: number; killedBy?: KillPoint['kind'] }> {
    const controller = new AbortController();
    const killer = this.killer(kill, controller, 'backup');
    let sns = 0;
    const { summary } = await runLocalBackup({
      instanceUrl: this.emu.instanceUrl,
      accessToken: this.emu.accessToken,
      store: this.dir,
      org: ORG,
      mode,
      settings: {
        includeObjects: [...this.options.objects],
        files: false,
        metadata: this.options.metadata,
        pageSize: 10,
        pollIntervalMs: 10,
      },
      retryIntervalScale: 0,
      signal: controller.signal,
      onSns: () => {
        sns += 1;
      },
      onTask: async (step) => {
        if (tasks && !tasks.includes(step.state)) tasks.push(step.state);
        await this.watchPointer(label);
        killer.onTask(step);
        await gate?.onTask(step);
      },
    });
    gate?.ended();
    await this.watchPointer(label);
    return { summary, sns, ...(killer.fired() ? { killedBy: killer.fired() } : {}) };
  }

  /**
   * Two backups of the org at once: started together, or the first held before its Finish until
   * the second has ended (the older run finishes last), or the other way round.
   */
  private async concurrentBackups(mode: 'full' | 'incremental', pair: number): Promise<void> {
    const [first, second] = pairedGates(pair, 'Finish');
    const how = ['at once', 'the older finishing last', 'the newer finishing last'][pair % 3];
    const label = `backups ${this.runs.backup + 1}-${this.runs.backup + 2} (${mode}, ${how})`;
    const dump = await dumpRows(this.emu);
    const from = Date.now();
    await this.setFaults(this.rate());
    const both = await Promise.all([
      this.backupRun(mode, undefined, undefined, label, first),
      // Snapshot ids order runs by their start, to the millisecond: the second starts later.
      delay(5).then(() => this.backupRun(mode, undefined, undefined, label, second)),
    ]);
    await this.collectFaults();
    this.states.push({ from, to: Date.now(), dump });
    for (const { summary, sns } of both) {
      this.runs.backup += 1;
      this.outcomes.backup[backupOutcome(summary, sns, undefined)] += 1;
    }
    await this.checkSnapshots(label);
    this.options.log?.(`${label}: ${both.map((b) => b.summary.status).join(', ')}`);
  }

  /** Reads the latest pointer and records each move from a snapshot to an older one. */
  private async watchPointer(label: string): Promise<void> {
    const now = await readLatestPointer(this.store, ORG);
    if (now === undefined || now === this.pointerLast) return;
    if (this.pointerLast !== undefined && now < this.pointerLast) {
      this.violate('latest pointer moved back', label, [`from ${this.pointerLast} to ${now}`]);
    }
    this.pointerLast = now;
  }

  /** Checks every snapshot marked complete since the last check, and the one the pointer names. */
  private async checkSnapshots(label: string): Promise<void> {
    const complete = (await this.reader.catalog(ORG)).filter((e) => e.status === 'complete');
    const pointer = await readLatestPointer(this.store, ORG);
    if (pointer !== undefined && !complete.some((e) => e.snapshotId === pointer)) {
      this.violate('complete-but-wrong snapshot', label, [
        `the latest pointer names ${pointer}, not complete`,
      ]);
    }
    for (const entry of complete) {
      if (this.checked.has(entry.snapshotId) || entry.mode === 'metadata') continue;
      this.checked.add(entry.snapshotId);
      const problems = await unreadable(() => snapshotIntegrity(this.store, ORG, entry.snapshotId));
      if (problems.length === 0)
        problems.push(
          ...(await unreadable(() => this.againstOrg(entry.snapshotId, entry.startedAt, entry.finishedAt))),
        );
      if (problems.length > 0) this.violate('complete-but-wrong snapshot', label, problems);
    }
  }

  /** A snapshot must equal the org as it was at some point while the snapshot was taken. */
  private async againstOrg(snapshotId: string, startedAt: string, finishedAt: string): Promise<string[]> {
    const start = Date.parse(startedAt);
    const end = Date.parse(finishedAt);
    const during = this.states.filter((s) => s.from <= end + 1000 && s.to >= start - 1000);
    if (during.length === 0) return [`${snapshotId}: taken while no campaign backup ran`];
    const pit = await this.reader.pointInTime(ORG, snapshotId);
    let closest: string[] = [];
    for (const state of during) {
      const problems = await snapshotDiffers(pit, state.dump, this.hardDeleted);
      if (problems.length === 0) return [];
      closest = problems.map((p) => `${snapshotId}: ${p}`);
    }
    return closest;
  }

  // ---------------------------------------------------------------- restores

  /** Runs a restore, and runs the same restore again after a kill or a refusal, until it ends. */
  private async restoreUntilDone(
    snapshotId: string,
    run: { label: string; kill?: KillPoint; tasks?: TaskLog },
  ): Promise<void> {
    const input = this.restoreInput(snapshotId);
    let result = await this.restoreRun(input, run.kill, run.tasks, run.label);
    let again = run.kill !== undefined && result.outcome !== 'complete';
    for (let tries = 0; tries < 3 && (again || result.outcome === 'refused'); tries++) {
      // A stopped restore holds the org's lease until it expires (an hour): the campaign skips
      // that hour, letting the lease go with the product's own call, before the restore runs again.
      if (result.outcome === 'stopped' || result.summary.error === ErrorName.RestoreInProgress) {
        await this.expireLeases();
      }
      result = await this.restoreRun(input, undefined, undefined, `again after ${result.outcome}`);
      again = false;
    }
  }

  /**
   * Two restores of the org at once: started together, or both validated before either plans,
   * or the first held before its first write until the second has ended.
   */
  private async concurrentRestores(snapshotId: string, pair: number): Promise<void> {
    const input = this.restoreInput(snapshotId);
    const [first, second] =
      pair % 3 === 2 ? pairedGates(1, 'RestoreLevel') : pairedGates(pair % 3, 'PlanRestore', 'PlanRestore');
    const how = ['at once', 'both validated before either plans', 'the first writing after the second ended'][
      pair % 3
    ];
    const label = `restores ${this.runs.restore + 1}-${this.runs.restore + 2} (${how})`;
    await this.setFaults(this.rate());
    const runs = await Promise.all([
      this.restoreExecution(input, undefined, undefined, `campaign-pair-${pair}-a`, first),
      delay(5).then(() =>
        this.restoreExecution(input, undefined, undefined, `campaign-pair-${pair}-b`, second),
      ),
    ]);
    await this.collectFaults();
    await this.afterRestore(label, input, runs);
    // Whatever the pair left undone, one restore more finishes.
    await this.expireLeases();
    await this.restoreRun(input, undefined, undefined, 'after the pair');
  }

  private async restoreRun(
    input: RestoreInput,
    kill: KillPoint | undefined,
    tasks: TaskLog | undefined,
    note: string,
  ): Promise<{ outcome: Outcome; summary: RestoreSummary }> {
    const label = `restore ${this.runs.restore + 1} (${note})`;
    await this.setFaults(tasks ? 0 : this.rate());
    const run = await this.restoreExecution(input, kill, tasks, `campaign-restore-${this.runs.restore + 1}`);
    await this.collectFaults();
    const [outcome] = await this.afterRestore(label, input, [run]);
    return { outcome: outcome!, summary: run.summary };
  }

  private async restoreExecution(
    input: RestoreInput,
    kill: KillPoint | undefined,
    tasks: TaskLog | undefined,
    executionName: string,
    gate?: Gate,
  ): Promise<{ summary: RestoreSummary; sns: number; killedBy?: KillPoint['kind']; executionName: string }> {
    const controller = new AbortController();
    const killer = this.killer(kill, controller, 'restore');
    this.restoreRunIds.push(executionName);
    let sns = 0;
    const { summary } = await runLocalRestore({
      instanceUrl: this.emu.instanceUrl,
      accessToken: this.emu.accessToken,
      store: this.dir,
      org: ORG,
      input,
      executionName,
      retryIntervalScale: 0,
      signal: controller.signal,
      onSns: () => {
        sns += 1;
      },
      onTask: async (step) => {
        if (tasks && !tasks.includes(step.state)) tasks.push(step.state);
        killer.onTask(step);
        await gate?.onTask(step);
      },
    });
    gate?.ended();
    return { summary, sns, executionName, ...(killer.fired() ? { killedBy: killer.fired() } : {}) };
  }

  /** Counts restores that ended, and checks the org after them. */
  private async afterRestore(
    label: string,
    input: RestoreInput,
    runs: readonly { summary: RestoreSummary; sns: number; killedBy?: KillPoint['kind'] }[],
  ): Promise<Outcome[]> {
    const dump = await dumpRows(this.emu);
    const outcomes = runs.map((r) => restoreOutcome(r.summary, r.sns, r.killedBy));
    for (const outcome of outcomes) {
      this.runs.restore += 1;
      this.outcomes.restore[outcome] += 1;
    }
    // A duplicate counts in the run that made it (or made more copies); one left from before does not.
    const duplicates: string[] = [];
    for (const [key, n] of duplicatedKeys(dump, this.options.restoreObjects)) {
      if (n <= (this.duplicates.get(key) ?? 1)) continue;
      this.duplicates.set(key, n);
      duplicates.push(`${key.split(' ')[0]}: ${n} live rows share one natural key`);
    }
    if (duplicates.length > 0) this.violate('duplicated rows after a restore', label, duplicates);
    if (outcomes.includes('complete')) {
      const problems = await unreadable(async () =>
        restoredScopeDiffers(await this.reader.pointInTime(ORG, input.snapshot), dump, input.objects),
      );
      if (problems.length > 0) this.violate('restore succeeded over a wrong org', label, problems);
    }
    const why = runs
      .filter((r) => r.summary.status !== 'SUCCEEDED' && r.summary.error)
      .map((r) => ` (${r.summary.error}: ${r.summary.message.slice(0, 200)})`)
      .join('');
    this.options.log?.(`${label}: ${outcomes.join(', ')}${why} at fault rate ${this.lastRate.toFixed(2)}`);
    return outcomes;
  }

  /** Frees the org's restore lease from every restore this campaign started, as its expiry would. */
  private async expireLeases(): Promise<void> {
    for (const runId of this.restoreRunIds.splice(0))
      await releaseLease(this.store, restoreRoot(ORG, this.emu.orgId), runId);
  }

  private restoreInput(snapshotId: string): RestoreInput {
    return {
      snapshot: snapshotId,
      objects: [...this.options.restoreObjects],
      mode: 'full',
      confirmOrgId: this.emu.orgId,
    };
  }

  // ---------------------------------------------------------------- the org, faults and kills

  /** Changes a few rows between backups, through the org's API, so every incremental has work. */
  private async mutate(): Promise<void> {
    await this.setFaults(0);
    this.mutation += 1;
    for (const object of this.options.objects) {
      const ids = await liveIds(this.emu, object);
      const picked = this.pick(ids, 2);
      const field = object === 'Account' ? 'Description' : object === 'Contact' ? 'Title' : 'Text__c';
      await importRows(
        this.emu,
        object,
        picked.map((Id) => ({ Id, [field]: `campaign change ${this.mutation}` })),
      );
    }
    const [object] = this.pick([...this.options.restoreObjects], 1);
    const ids = await liveIds(this.emu, object!);
    if (this.mutation % 4 === 0 && ids.length > 10) await deleteRows(this.emu, this.pick(ids, 1));
    if (this.mutation % 9 === 0 && ids.length > 10) await this.hardDelete(this.pick(ids, 1));
  }

  /** What a restore repairs: rows deleted to the recycle bin, rows purged, fields overwritten. */
  private async disaster(): Promise<void> {
    await this.setFaults(0);
    this.mutation += 1;
    for (const object of this.options.restoreObjects) {
      const ids = await liveIds(this.emu, object);
      // Purged rows are rows of the base snapshot: a row a restore inserted again and that is then
      // purged too is a case of its own (the id map names a row that is gone), kept out of the count.
      const [hard] = this.pick(
        ids.filter((id) => this.baseIds.has(id)),
        1,
      );
      const [soft1, soft2, change1, change2] = this.pick(
        ids.filter((id) => id !== hard),
        4,
      );
      await deleteRows(this.emu, [soft1!, soft2!]);
      if (hard) await this.hardDelete([hard]);
      await importRows(this.emu, object, [
        { Id: change1, Text__c: `disaster ${this.mutation}` },
        { Id: change2, Name: `Renamed ${this.mutation}` },
      ]);
    }
  }

  private async hardDelete(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.hardDeleted.add(id);
    await hardDeleteRows(this.emu, ids);
  }

  /** The fault rate for the next run: rises from 0 with the share of the campaign done. */
  private rate(): number {
    const done = (this.runs.backup + this.runs.restore) / this.planned;
    return Math.min(1, done) * this.options.maxFaultRate;
  }

  private lastRate = 0;

  private async setFaults(rate: number): Promise<void> {
    this.lastRate = rate;
    this.dice += 1;
    const spec =
      rate === 0
        ? ''
        : [
            `seed=${this.dice}`,
            ...FAULTS.map(
              ([endpoint, kind, weight]) =>
                `${endpoint}:${kind}@${Math.min(1, rate * weight).toFixed(4)}#${TURNS}`,
            ),
          ].join(',');
    await control(this.emu, 'faults', { spec });
  }

  /** Adds what the rules in force fired to the counts, and clears them. */
  private async collectFaults(): Promise<void> {
    const { rules } = (await (await fetch(`${this.emu.instanceUrl}/__emulator/faults`)).json()) as {
      rules: { kind: string; remaining: number | null }[];
    };
    for (const rule of rules) {
      if (rule.remaining === null) continue;
      this.faults[rule.kind] = (this.faults[rule.kind] ?? 0) + (TURNS - rule.remaining);
    }
    await control(this.emu, 'faults', { spec: '' });
  }

  private killPoints(tasks: TaskLog, bothPhases = true): KillPoint[] {
    const points: KillPoint[] = [];
    tasks.forEach((state, i) => {
      const phases = bothPhases
        ? (['before', 'after'] as const)
        : ([i % 2 === 0 ? 'before' : 'after'] as const);
      for (const phase of phases) {
        if (this.options.crashEveryTask) {
          points.push({ state, phase, kind: 'stop' }, { state, phase, kind: 'crash' });
        } else {
          const turn = bothPhases ? i + (phase === 'after' ? 1 : 0) : Math.floor(i / 2);
          points.push({ state, phase, kind: turn % 2 === 0 ? 'stop' : 'crash' });
        }
      }
    });
    return points;
  }

  /** Stops or crashes a run the first time any of its executions reaches the kill point. */
  private killer(kill: KillPoint | undefined, controller: AbortController, workflow: 'backup' | 'restore') {
    let fired: KillPoint['kind'] | undefined;
    return {
      fired: () => fired,
      onTask: (step: TaskStep) => {
        if (!kill || fired || controller.signal.aborted) return;
        if (step.state !== kill.state || step.phase !== kill.phase) return;
        fired = kill.kind;
        this.kills[kill.kind] += 1;
        this.killed[workflow].add(`${kill.phase} ${kill.state}`);
        if (kill.kind === 'stop') controller.abort();
        else throw new LambdaCrash(`The function stopped ${kill.phase} its work at ${kill.state}.`);
      },
    };
  }

  private pick<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) {
      this.dice = (this.dice * 1103515245 + 12345) % 2147483648;
      out.push(pool.splice(this.dice % pool.length, 1)[0]!);
    }
    return out;
  }

  private violate(invariant: Invariant, run: string, problems: readonly string[]): void {
    this.violations.push({ invariant, run, problems });
    this.options.log?.(`VIOLATION ${invariant} in ${run}: ${problems.join('; ')}`);
  }

  private report(): CampaignReport {
    const violatedRuns = Object.fromEntries(INVARIANTS.map((i) => [i, 0])) as Record<Invariant, number>;
    const seen = new Set<string>();
    for (const v of this.violations) {
      const key = `${v.invariant}\n${v.run}`;
      if (seen.has(key)) continue;
      seen.add(key);
      violatedRuns[v.invariant] += 1;
    }
    return {
      runs: { ...this.runs },
      outcomes: this.outcomes,
      faults: { ...this.faults },
      kills: { ...this.kills },
      killedStates: { backup: [...this.killed.backup], restore: [...this.killed.restore] },
      violations: this.violations,
      violatedRuns,
      seconds: Math.round((Date.now() - this.started) / 1000),
    };
  }
}

/**
 * Holds one run of a pair before a task until the other run has reached its own mark or ended,
 * so that the pair interleaves the way that would hurt most.
 */
interface Gate {
  onTask(step: TaskStep): Promise<void>;
  ended(): void;
}

/**
 * The gates of a pair: none (`turn` 0), the first held before `held` until the second reaches
 * `mark` (when given) or ends (1), or the second held until the first does (2).
 */
function pairedGates(turn: number, held: string, mark?: string): [Gate | undefined, Gate | undefined] {
  if (turn % 3 === 0) return [undefined, undefined];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waited = false;
  const waiter: Gate = {
    async onTask(step) {
      if (waited || step.state !== held || step.phase !== 'before') return;
      waited = true;
      await released;
    },
    ended: () => undefined,
  };
  const other: Gate = {
    async onTask(step) {
      if (step.state === mark && step.phase === 'before') release();
    },
    ended: release,
  };
  return turn % 3 === 1 ? [waiter, other] : [other, waiter];
}

/** A check's problems, or the error that kept a complete snapshot from being read, as its one problem. */
async function unreadable(check: () => Promise<string[]>): Promise<string[]> {
  try {
    return await check();
  } catch (error) {
    return [`cannot be read: ${(error as Error).name}`];
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The restore input the campaign sends, as the console would. */
interface RestoreInput {
  readonly snapshot: string;
  readonly objects: string[];
  readonly mode: 'full';
  readonly confirmOrgId: string;
}

/** Whether a run that did not succeed alerted: by its own SNS message, or through the EventBridge rule on its status. */
function alerted(status: string, sns: number): boolean {
  return sns > 0 || (FAILED_EXECUTION_STATUSES as readonly string[]).includes(status);
}

function backupOutcome(
  summary: BackupSummary,
  sns: number,
  killedBy: KillPoint['kind'] | undefined,
): Outcome {
  if (summary.status === 'complete') return 'complete';
  if (summary.status === 'deferred') return 'deferred';
  if (summary.execution.status === 'ABORTED') return 'stopped';
  if (!alerted(summary.execution.status, sns)) return 'failed without alert';
  return killedBy === 'crash' ? 'crashed with alert' : 'failed with alert';
}

function restoreOutcome(
  summary: RestoreSummary,
  sns: number,
  killedBy: KillPoint['kind'] | undefined,
): Outcome {
  if (summary.status === 'SUCCEEDED') return 'complete';
  if (summary.status === 'ABORTED') return 'stopped';
  if ((RESTORE_INPUT_REJECTED_ERRORS as readonly string[]).includes(summary.error ?? '')) return 'refused';
  if (!alerted(summary.status, sns)) return 'failed without alert';
  return killedBy === 'crash' ? 'crashed with alert' : 'failed with alert';
}

async function control(emu: RunningEmulator, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${emu.instanceUrl}/__emulator/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`The emulator refused ${path}: ${response.status} ${await response.text()}`);
}

/** The report as a small table: runs by kind, faults, kills, outcomes and invariant violations. */
export function formatReport(report: CampaignReport): string {
  const pad = (text: string, width: number) => text.padEnd(width);
  const num = (n: number) => String(n).padStart(8);
  const lines = [`${pad('runs', 34)}  backup restore`];
  lines.push(`${pad('  total', 34)}${num(report.runs.backup)}${num(report.runs.restore)}`);
  for (const outcome of Object.keys(report.outcomes.backup) as Outcome[]) {
    lines.push(
      `${pad(`  ${outcome}`, 34)}${num(report.outcomes.backup[outcome])}${num(report.outcomes.restore[outcome])}`,
    );
  }
  lines.push(`${pad('kills (stop / crash)', 34)}${num(report.kills.stop)}${num(report.kills.crash)}`);
  lines.push(
    `${pad('kill points reached', 34)}${num(report.killedStates.backup.length)}${num(report.killedStates.restore.length)}`,
  );
  const faultTotal = Object.values(report.faults).reduce((a, b) => a + b, 0);
  lines.push(`${pad('faults injected', 34)}${num(faultTotal)}`);
  for (const [kind, n] of Object.entries(report.faults).sort())
    lines.push(`${pad(`  ${kind}`, 34)}${num(n)}`);
  lines.push(`${pad('invariant violations (runs)', 34)}`);
  for (const invariant of INVARIANTS)
    lines.push(`${pad(`  ${invariant}`, 34)}${num(report.violatedRuns[invariant])}`);
  lines.push(`${pad('seconds', 34)}${num(report.seconds)}`);
  return `${lines.join('\n')}\n`;
}
