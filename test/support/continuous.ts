/**
 * Continuous protection against the emulator, for end-to-end tests: the org's relayed change
 * events delivered through the journal path synthesized for an org named `sample` (rule, queue,
 * writer), and the view of an object at an instant compared with the rows the org held then.
 */
import jsforce from 'jsforce';
import { expect, vi } from 'vitest';
import { type LocalJournal, localJournal } from '../../cli/local/continuous.ts';
import { synthesizeDefinition } from '../../cli/local/synthesize.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { EventBridgeEvent } from '../../emulator/org/cdc/relay.ts';
import { type InstantView, rowsAtInstant } from '../../lambdas/core/continuous/view.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { buildApp } from '../../lib/app.ts';
import type { OrgStack } from '../../lib/stacks/org-stack.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';
import { startSampleOrg } from '../backup/e2e-support.ts';
import { OrgWriter } from './org-writer.ts';

/** Columns Change Data Capture does not carry: the view keeps the snapshot's value for them. */
const NOT_JOURNALED = new Set(['Id', 'IsDeleted', 'SystemModstamp']);

/** The org's journal delivery, fed by everything its relay sends. */
export interface ContinuousOrg {
  readonly journal: LocalJournal;
  /** Delivers what the relay sent since the last call; answers how many events it was. */
  deliver(): Promise<number>;
}

/** Starts journaling the emulator's relayed events for the org `sample` into the vault `dir`. */
export function journalOf(emu: RunningEmulator, dir: string): ContinuousOrg {
  const { orgStacks } = buildApp(
    configWith({
      orgs: [
        {
          name: 'sample',
          type: 'production',
          secretName: 'sfbackup/sample',
          continuous: { partnerEventSource: emu.relay.source },
        },
      ],
    }),
    appWithoutBundling(),
    { nag: false },
  );
  const stack = orgStacks[0] as OrgStack;
  const journal = localJournal(synthesizeDefinition(stack, stack.backup.stateMachine), {
    storeDir: dir,
    env: { POWERTOOLS_METRICS_DISABLED: 'true' },
  });
  const relayed: EventBridgeEvent[] = [];
  emu.relay.subscribe((event) => relayed.push(event));
  return {
    journal,
    async deliver() {
      const events = relayed.splice(0);
      expect(journal.put(events)).toBe(events.length);
      const drained = await journal.drain();
      expect(drained.deadLettered).toEqual([]);
      expect(drained.delivered).toBe(events.length);
      return events.length;
    },
  };
}

/** The columns of an object a change event carries, to compare a view with the org on. */
export async function journaledColumns(conn: jsforce.Connection, object: string): Promise<string[]> {
  const described = await conn.sobject(object).describe();
  const person =
    described.fields.some((f) => f.name === 'FirstName') &&
    described.fields.some((f) => f.name === 'LastName');
  return described.fields
    .filter(
      (f) =>
        !NOT_JOURNALED.has(f.name) &&
        !f.calculated &&
        f.type !== 'base64' &&
        f.type !== 'address' &&
        f.type !== 'location' &&
        !(person && f.name === 'Name' && !f.createable),
    )
    .map((f) => f.name);
}

/** The live rows of an object as the org holds them now. */
export function liveRows(emu: RunningEmulator, object: string): Map<string, Record<string, string>> {
  const live = new Map<string, Record<string, string>>();
  for (const [id, values] of emu.org.dumpObject(object))
    if (values.IsDeleted !== 'true') live.set(id, values);
  return live;
}

/**
 * Where the view of `object` at `at` differs from the org's live rows then, on `columns`: one line
 * per row missing or in excess and per differing value; empty when they agree. Answers the view too.
 */
export async function instantDifferences(
  store: BackupStore,
  object: string,
  at: string,
  org: ReadonlyMap<string, Record<string, string>>,
  columns: readonly string[],
  label = at,
): Promise<{ view: InstantView; differences: string[] }> {
  const view = await rowsAtInstant(store, 'sample', object, new Date(at));
  const differences: string[] = [];
  const live = new Map([...view.rows].filter(([, row]) => row.IsDeleted !== 'true'));
  for (const id of org.keys())
    if (!live.has(id)) differences.push(`${label}: ${object} ${id} missing from the view`);
  for (const [id, row] of live) {
    const values = org.get(id);
    if (!values) {
      differences.push(`${label}: ${object} ${id} in the view, not in the org`);
      continue;
    }
    for (const column of columns)
      if ((row[column] ?? '') !== (values[column] ?? ''))
        differences.push(
          `${label}: ${object} ${id}.${column} is "${row[column] ?? ''}", the org had "${values[column] ?? ''}"`,
        );
  }
  return { view, differences };
}

/** A sample org with continuous protection, its clock faked, and what its tests need. */
export interface ContinuousSample {
  readonly emu: RunningEmulator;
  readonly writer: OrgWriter;
  readonly conn: jsforce.Connection;
  readonly continuous: ContinuousOrg;
  /** Backup settings: the default overlap (the journal replays what a snapshot read) and the relay. */
  readonly settings: Record<string, unknown>;
  /** Columns compared per object: every column the journal carries. */
  readonly columns: ReadonlyMap<string, string[]>;
  /** Moves both clocks forward by `seconds` (never back). */
  later(seconds: number): void;
  /** Stops the org and gives the real clock back. */
  stop(): Promise<void>;
}

/**
 * Starts a sample org at `startAt` with Change Data Capture on `objects` and its relay running
 * (recovery EARLIEST), journaled into the vault `dir`. The org and the backups read the process
 * clock: Date is faked, advancing with real time, so both move together and `later` moves them on.
 */
export async function startContinuousSample(
  sample: string,
  objects: readonly string[],
  dir: string,
  startAt: number,
): Promise<ContinuousSample> {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(startAt);
  const api = '62.0';
  const emu = await startSampleOrg(sample);
  const conn = new jsforce.Connection({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    version: api,
  });
  const columns = new Map<string, string[]>();
  for (const object of objects) columns.set(object, await journaledColumns(conn, object));
  const continuous = journalOf(emu, dir);
  emu.cdc.select([...objects]);
  emu.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });
  let clock = startAt;
  return {
    emu,
    writer: new OrgWriter(emu, api),
    conn,
    continuous,
    settings: { overlapSeconds: 300, continuous: { partnerEventSource: emu.relay.source } },
    columns,
    later(seconds) {
      clock = Math.max(clock + seconds * 1000, Date.now() + 1000);
      vi.setSystemTime(clock);
    },
    async stop() {
      await emu.stop();
      vi.useRealTimers();
    },
  };
}
