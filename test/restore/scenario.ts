/** A small org for core tests: brokers, properties that point at them, accounts with parents. */
import {
  fileCheckStep,
  filesStep,
  objectStep,
  planStep,
  type RestoreDeps,
  validateStep,
  rowCheckStep,
  verifyStep,
  levelStep,
  releaseStep,
  type RestoreRun,
} from '../../lambdas/core/restore/workflow.ts';
import type { ObjectInfo, Row } from '../../lambdas/core/restore/model.ts';
import {
  FakeOrg,
  FakeSnapshot,
  FakeSnapshots,
  field,
  MemoryStore,
  snapshotFields,
  systemFields,
} from './fakes.ts';

export const BROKER: ObjectInfo = {
  name: 'Broker__c',
  keyPrefix: 'a01',
  createable: true,
  updateable: true,
  undeletable: true,
  fields: [...systemFields(), field('Name'), field('Email__c', 'email'), field('Phone__c', 'phone')],
};
export const PROPERTY: ObjectInfo = {
  name: 'Property__c',
  keyPrefix: 'a02',
  createable: true,
  updateable: true,
  undeletable: true,
  fields: [
    ...systemFields(),
    field('Name'),
    field('Price__c', 'currency'),
    field('Broker__c', 'reference', { referenceTo: ['Broker__c'] }),
    field('Days__c', 'double', { createable: false, updateable: false, calculated: true }),
  ],
};
export const ACCOUNT: ObjectInfo = {
  name: 'Account',
  keyPrefix: '001',
  createable: true,
  updateable: true,
  undeletable: true,
  fields: [...systemFields(), field('Name'), field('ParentId', 'reference', { referenceTo: ['Account'] })],
};

const id = (prefix: string, n: number) => `${prefix}00000000${String(n).padStart(4, '0')}AAA`;
export const brokerId = (n: number) => id('a01', n);
export const propertyId = (n: number) => id('a02', n);
export const accountId = (n: number) => id('001', n);

/** The org before the disaster, as rows. */
export function baseline(): Record<string, Row[]> {
  const brokers = [1, 2, 3].map((n) => ({
    Id: brokerId(n),
    IsDeleted: 'false',
    Name: `Broker ${n}`,
    Email__c: `b${n}@example.com`,
    Phone__c: `555-000${n}`,
    CreatedDate: '2024-01-01T00:00:00.000Z',
  }));
  const properties = [1, 2, 3, 4, 5, 6].map((n) => ({
    Id: propertyId(n),
    IsDeleted: 'false',
    Name: `House ${n}`,
    Price__c: String(100000 * n),
    Broker__c: brokerId(((n - 1) % 3) + 1),
    Days__c: '12',
  }));
  const accounts = [
    { Id: accountId(1), IsDeleted: 'false', Name: 'Root', ParentId: null },
    { Id: accountId(2), IsDeleted: 'false', Name: 'Child', ParentId: accountId(1) },
    { Id: accountId(3), IsDeleted: 'false', Name: 'Grandchild', ParentId: accountId(2) },
  ];
  return { Broker__c: brokers, Property__c: properties, Account: accounts };
}

/** The configured org the core tests restore for: their records live under `restores/acme-prod/`. */
export const ORG_NAME = 'acme-prod';

/** A fresh org seeded with the baseline, its snapshot, a store and the deps. */
export function world() {
  const org = new FakeOrg([BROKER, PROPERTY, ACCOUNT]);
  const data = baseline();
  for (const [object, rows] of Object.entries(data)) for (const r of rows) org.seed(object, { ...r });
  const snapshot = new FakeSnapshot('20260101T000000Z-abcdef', org.orgId, '2026-01-01T00:00:00.000Z', {
    Broker__c: { fields: snapshotFields(BROKER), rows: data.Broker__c! },
    Property__c: { fields: snapshotFields(PROPERTY), rows: data.Property__c! },
    Account: { fields: snapshotFields(ACCOUNT), rows: data.Account! },
  });
  const store = new MemoryStore();
  // Claims in memory are visible the moment they are written: no need to wait for them to settle.
  const deps: RestoreDeps = {
    orgName: ORG_NAME,
    store,
    org,
    snapshots: new FakeSnapshots([snapshot]),
    lease: { sleep: async () => {} },
  };
  return { org, store, deps, snapshot, data };
}

/** How the file check steps of a core restore run: when each must stop, and what each answered. */
export interface FileCheckSteps {
  readonly deadline: () => number;
  readonly answers: { done: boolean; cursor: number; problems: number }[];
  /** Called before each file check step. */
  readonly before?: (run: RestoreRun, cursor: number) => Promise<void>;
  /** Steps run at most (as a workflow without the step runs none); then the verify step. */
  readonly steps?: number;
  /** Called before the verify step. */
  readonly beforeVerify?: (run: RestoreRun) => Promise<void>;
}

/** Runs every step of a restore the way the state machine sequences them. */
export async function runRestore(
  deps: RestoreDeps,
  input: unknown,
  runId = 'run-1',
  fileChecks?: FileCheckSteps,
) {
  const run = await validateStep(deps, input, runId);
  try {
    return await runValidated(deps, run, fileChecks);
  } catch (error) {
    // As the state machine's failure path does: the failed run frees the org.
    await releaseStep(deps, run);
    throw error;
  }
}

/** The steps after validation, in the state machine's order. */
export async function runValidated(deps: RestoreDeps, run: RestoreRun, fileChecks?: FileCheckSteps) {
  const plan = await planStep(deps, run);
  if (run.dryRun) return { run, plan };
  await writeSteps(deps, run, plan);
  for (
    let cursor = 0;
    (fileChecks?.answers.length ?? 0) < (fileChecks?.steps ?? Number.POSITIVE_INFINITY);
  ) {
    await fileChecks?.before?.(run, cursor);
    const check = await fileCheckStep(deps, run, cursor, fileChecks?.deadline());
    fileChecks?.answers.push(check);
    if (check.done) break;
    cursor = check.cursor;
  }
  for (let cursor = 0; ; ) {
    const check = await rowCheckStep(deps, run, cursor);
    if (check.done) break;
    cursor = check.cursor;
  }
  await fileChecks?.beforeVerify?.(run);
  const verify = await verifyStep(deps, run);
  return { run, plan, verify };
}

/** The steps that write to the org, after the plan: every level's objects, the second pass, the files. */
export async function writeSteps(
  deps: RestoreDeps,
  run: RestoreRun,
  plan: Awaited<ReturnType<typeof planStep>>,
): Promise<void> {
  for (let level = 0; ; level++) {
    const l = await levelStep(deps, run, level);
    if (l.done) break;
    for (const object of l.objects) {
      let cursor = 0;
      for (;;) {
        const r = await objectStep(deps, run, object, 'main', cursor);
        if (r.done) break;
        cursor = r.cursor;
      }
    }
  }
  for (const object of plan.secondPass) await objectStep(deps, run, object, 'second-pass', 0);
  for (let cursor = 0; ; ) {
    const files = await filesStep(deps, run, cursor);
    if (files.done) break;
    cursor = files.cursor;
  }
}
