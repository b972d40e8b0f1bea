import { describe, expect, it } from 'vitest';
import { InvalidRestoreRequestError } from '../../lambdas/core/restore/errors.ts';
import { accountId, brokerId, ORG_NAME, propertyId, runRestore, world } from './scenario.ts';

const CONFIRM = { confirmOrgId: '00D000000000001AAA' };

describe('restore core against an in-memory org', () => {
  it('undeletes soft-deleted parents and re-links the children whose lookups were cleared', async () => {
    const { org, deps } = world();
    org.softDelete('Broker__c', brokerId(1));
    org.softDelete('Broker__c', brokerId(2));
    expect(org.live('Property__c').filter((p) => p.Broker__c === null)).toHaveLength(4);
    const { plan, verify } = await runRestore(deps, {
      objects: ['Broker__c'],
      includeChildren: true,
      mode: 'restore-deleted',
      ...CONFIRM,
    });
    expect(plan.totals).toEqual({ undelete: 2, insert: 0, update: 4 });
    expect(verify?.matches).toBe(true);
    expect(org.live('Broker__c')).toHaveLength(3);
    const links = org.live('Property__c').map((p) => [p.Id, p.Broker__c]);
    expect(links).toContainEqual([propertyId(1), brokerId(1)]);
    expect(links).toContainEqual([propertyId(5), brokerId(2)]);
  });

  it('inserts hard-deleted rows under new ids and rewrites every reference to them', async () => {
    const { org, deps } = world();
    org.hardDelete('Broker__c', brokerId(1));
    for (const n of [1, 2, 3]) org.hardDelete('Account', accountId(n));
    const { plan, verify } = await runRestore(deps, {
      objects: ['Broker__c', 'Account'],
      includeChildren: true,
      mode: 'full',
      ...CONFIRM,
    });
    expect(plan.totals.insert).toBe(4);
    expect(plan.secondPass).toEqual(['Account']);
    expect(verify?.matches).toBe(true);
    const newBroker = org.live('Broker__c').find((b) => b.Name === 'Broker 1');
    expect(newBroker?.Id).not.toBe(brokerId(1));
    const children = org.live('Property__c').filter((p) => p.Broker__c === newBroker?.Id);
    expect(children.map((c) => c.Name).sort()).toEqual(['House 1', 'House 4']);
    const accounts = org.live('Account');
    const byName = new Map(accounts.map((a) => [a.Name, a]));
    expect(byName.get('Child')?.ParentId).toBe(byName.get('Root')?.Id);
    expect(byName.get('Grandchild')?.ParentId).toBe(byName.get('Child')?.Id);
  });

  it('reverts only the listed fields when a bad import blanked them', async () => {
    const { org, deps } = world();
    await org.update('Broker__c', [
      { Id: brokerId(1), Email__c: null, Phone__c: '000' },
      { Id: brokerId(2), Email__c: null },
    ]);
    const { plan, verify } = await runRestore(deps, {
      objects: ['Broker__c'],
      fields: ['Email__c'],
      mode: 'revert-changes',
      ...CONFIRM,
    });
    expect(plan.totals).toEqual({ undelete: 0, insert: 0, update: 2 });
    expect(verify?.matches).toBe(true);
    const b1 = org.live('Broker__c').find((b) => b.Id === brokerId(1));
    expect(b1?.Email__c).toBe('b1@example.com');
    expect(b1?.Phone__c).toBe('000');
  });

  it('names the fields it cannot restore and why in the dry-run plan, writing nothing', async () => {
    const { org, deps } = world();
    org.hardDelete('Broker__c', brokerId(3));
    const { plan, run } = await runRestore(deps, { objects: ['Broker__c', 'Property__c'] });
    expect(run.dryRun).toBe(true);
    expect(plan.summary).toMatch(/cannot restore CreatedDate(, CreatedById)?, LastModifiedDate: audit field/);
    expect(plan.summary).toContain('cannot restore Days__c: formula field');
    expect(plan.summary).toContain('insert 1');
    expect(org.calls.filter((c) => /^(create|update|undelete)/.test(c))).toEqual([]);
  });

  it('reports every row Salesforce refused, with its error, and fails verification', async () => {
    const { org, deps } = world();
    org.hardDelete('Property__c', propertyId(2));
    org.hardDelete('Property__c', propertyId(3));
    org.rejectInsert = (_o, row) => (row.Name === 'House 3' ? 'Price must be set by a broker' : undefined);
    const { verify } = await runRestore(deps, {
      objects: ['Property__c'],
      mode: 'restore-deleted',
      ...CONFIRM,
    });
    expect(verify?.matches).toBe(false);
    expect(verify?.report.problems).toHaveLength(1);
    expect(verify?.report.problems[0]?.oldId).toBe(propertyId(3));
    expect(verify?.report.problems[0]?.errors[0]?.statusCode).toBe('FIELD_CUSTOM_VALIDATION_EXCEPTION');
    expect(verify?.summary).toContain(`${propertyId(3)}: FIELD_CUSTOM_VALIDATION_EXCEPTION`);
  });

  it('never inserts a row twice when a run crashed after its insert and is started again', async () => {
    const { org, deps, store } = world();
    for (const n of [1, 2, 3, 4, 5, 6]) org.hardDelete('Property__c', propertyId(n));
    org.crashAfterCreate = true;
    await expect(
      runRestore(deps, { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM }, 'run-crashed'),
    ).rejects.toThrow(/simulated crash/);
    expect(org.live('Property__c')).toHaveLength(6);
    const intents = [...store.objects.keys()].filter((k) => k.includes('/intents/'));
    expect(intents).toHaveLength(1);
    const { plan, verify } = await runRestore(
      deps,
      { objects: ['Property__c'], mode: 'restore-deleted', ...CONFIRM },
      'run-again',
    );
    expect(plan.totals.insert).toBe(0);
    expect(verify?.matches).toBe(true);
    expect(org.live('Property__c')).toHaveLength(6);
  });

  it('continues a crashed run from its own checkpoints without inserting twice', async () => {
    const { org, deps, store } = world();
    for (const n of [1, 2]) org.hardDelete('Broker__c', brokerId(n));
    store.failOnce = /id-map\/Broker__c\//;
    await expect(
      runRestore(deps, { objects: ['Broker__c'], mode: 'full', ...CONFIRM }, 'run-x'),
    ).rejects.toThrow(/simulated crash/);
    expect(org.live('Broker__c')).toHaveLength(3);
    const again = await runRestore(deps, { objects: ['Broker__c'], mode: 'full', ...CONFIRM }, 'run-y');
    expect(again.verify?.matches).toBe(true);
    expect(org.live('Broker__c')).toHaveLength(3);
  });

  it.each(['00d000000000001aaa', '00D000000000001', '00d000000000001'])(
    'takes confirmOrgId %s: the org id in 15 or 18 characters, in any case',
    async (confirmOrgId) => {
      const { org, deps } = world();
      org.hardDelete('Broker__c', brokerId(1));
      const done = await runRestore(deps, { objects: ['Broker__c'], mode: 'full', confirmOrgId });
      expect(done.verify?.matches).toBe(true);
    },
  );

  it('rejects a write whose confirmOrgId is not the target org, before writing anything', async () => {
    const { org, deps } = world();
    org.hardDelete('Broker__c', brokerId(1));
    const error = await runRestore(deps, {
      objects: ['Broker__c'],
      mode: 'full',
      confirmOrgId: '00D000000000999AAA',
    }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidRestoreRequestError);
    expect(error.message).toContain('confirmOrgId');
    expect(error.message).toContain('00D000000000001AAA');
    expect(org.calls.filter((c) => /^(create|update|undelete)/.test(c))).toEqual([]);
  });
});

describe('polymorphic references', () => {
  it('resolves WhatId per record by key prefix and rewrites it to the new id of a re-inserted row', async () => {
    const { FakeOrg, FakeSnapshot, FakeSnapshots, MemoryStore, field, snapshotFields, systemFields } =
      await import('./fakes.ts');
    const account = {
      name: 'Account',
      keyPrefix: '001',
      createable: true,
      updateable: true,
      undeletable: true,
      fields: [...systemFields(), field('Name')],
    };
    const opportunity = { ...account, name: 'Opportunity', keyPrefix: '006' };
    const task = {
      ...account,
      name: 'Task',
      keyPrefix: '00T',
      fields: [
        ...systemFields(),
        field('Subject'),
        field('WhatId', 'reference', { referenceTo: ['Account', 'Opportunity'] }),
      ],
    };
    const org = new FakeOrg([account, opportunity, task]);
    const rows = {
      Account: [{ Id: '001000000000001AAA', Name: 'Acme' }],
      Opportunity: [{ Id: '006000000000001AAA', Name: 'Deal' }],
      Task: [
        { Id: '00T000000000001AAA', Subject: 'Call', WhatId: '001000000000001AAA' },
        { Id: '00T000000000002AAA', Subject: 'Quote', WhatId: '006000000000001AAA' },
        { Id: '00T000000000003AAA', Subject: 'Old', WhatId: '006000000000009AAA' },
      ],
    };
    for (const [object, list] of Object.entries(rows)) for (const r of list) org.seed(object, r);
    const snapshot = new FakeSnapshot('s1', org.orgId, '2026-01-01T00:00:00Z', {
      Account: { fields: snapshotFields(account), rows: rows.Account },
      Opportunity: { fields: snapshotFields(opportunity), rows: rows.Opportunity },
      Task: { fields: snapshotFields(task), rows: rows.Task },
    });
    org.hardDelete('Account', '001000000000001AAA');
    for (const t of rows.Task) org.hardDelete('Task', t.Id);
    const deps = {
      orgName: ORG_NAME,
      store: new MemoryStore(),
      org,
      snapshots: new FakeSnapshots([snapshot]),
    };
    const { plan, verify } = await runRestore(deps, {
      objects: ['Account', 'Task'],
      mode: 'full',
      ...CONFIRM,
    });
    expect(plan.totals.insert).toBe(4);
    expect(verify?.matches).toBe(true);
    const newAccount = org.live('Account')[0]?.Id;
    const tasks = new Map(org.live('Task').map((t) => [t.Subject, t.WhatId]));
    expect(tasks.get('Call')).toBe(newAccount);
    expect(tasks.get('Quote')).toBe('006000000000001AAA');
    // The opportunity it pointed at exists nowhere: the reference is cleared and the plan says so.
    expect(tasks.get('Old') ?? null).toBeNull();
    expect(plan.summary).toContain('1 referenced row(s) exist neither in the org nor in the restore');
  });
});
