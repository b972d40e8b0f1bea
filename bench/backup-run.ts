/** Full and incremental backups through the synthesized workflow, run locally as `sfbackup backup` runs them. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackupSummary, runLocalBackup } from '../cli/commands/backup.ts';
import { buildLocalBackupApp } from '../cli/commands/local-app.ts';
import { type LocalHistoryEvent, type RunResult, synthesizeDefinition } from '../cli/local/index.ts';
import type { EmulatorProcess } from './proc.ts';

/** The org's key in the benchmark vaults. */
export const ORG_KEY = 'bench';

/** A fresh vault directory. */
export function freshVault(): string {
  return mkdtempSync(join(tmpdir(), 'bench-vault-'));
}

/** One backup run, timed. */
export interface TimedBackup {
  readonly summary: BackupSummary;
  readonly result: RunResult;
  readonly seconds: number;
}

/**
 * Runs one backup of the emulator's org into `dir` and fails loudly unless it completed, so a
 * broken run never turns into a figure.
 */
export async function timedBackup(
  emu: EmulatorProcess,
  dir: string,
  mode: 'full' | 'incremental',
  options: {
    settings?: Record<string, unknown>;
    onEvent?: (e: LocalHistoryEvent) => void;
    maxConcurrency?: number;
  } = {},
): Promise<TimedBackup> {
  // Timed from the execution's first event: synthesizing the definition is a local step that a
  // deployed state machine never repeats.
  let started: number | undefined;
  const onEvent = (event: LocalHistoryEvent) => {
    started ??= performance.now();
    options.onEvent?.(event);
  };
  const { summary, result } = await runLocalBackup({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    store: dir,
    mode,
    org: ORG_KEY,
    settings: { overlapSeconds: 0, ...options.settings },
    retryIntervalScale: 0.02,
    onEvent,
    ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
  });
  const seconds = (performance.now() - (started ?? performance.now())) / 1000;
  if (summary.status !== 'complete') {
    throw new Error(`The ${mode} backup ended ${summary.status}: ${summary.problems.slice(0, 5).join('; ')}`);
  }
  return { summary, result, seconds };
}

/** The backup workflow as CDK synthesizes it for the benchmark org (for function memory sizes). */
export function synthesizedBackup() {
  const app = buildLocalBackupApp(ORG_KEY);
  return synthesizeDefinition(app.stack, app.workflow.stateMachine);
}
