import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';
import {
  classifyRefusal,
  decideObject,
  parentIdClauses,
  REST_QUERY_MAX_ENCODED,
  watermarkFieldOf,
} from '../../lambdas/core/backup/special-objects.ts';
import { parseManifest } from '../../lambdas/core/snapshot/manifest.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import {
  SalesforceQueryError,
  SalesforceRequestError,
  SalesforceTransientError,
} from '../../lambdas/core/salesforce.ts';
import { baseFields, type FakeObject, FakeSource } from './fake-source.ts';
import type { StoredObject } from '../../lambdas/core/store.ts';
import { MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const T0 = '2026-01-01T00:00:00.000Z';
// Within the 15 days Salesforce keeps its delete log: an incremental at T1 builds on a snapshot at T0.
const T1 = '2026-01-10T00:00:00.000Z';

function object(name: string, extra: Partial<FakeObject> = {}): FakeObject {
  return {
    name,
    fields: baseFields,
    rows: [{ Id: `${name}-1`, Name: 'one', IsDeleted: 'false', SystemModstamp: T0 }],
    ...extra,
  };
}

const global = (name: string, flags: { queryable?: boolean; retrieveable?: boolean } = {}) => ({
  name,
  queryable: flags.queryable ?? true,
  retrieveable: flags.retrieveable ?? true,
  custom: name.includes('__'),
});

async function manifestOf(store: MemoryStore, snapshotId: string) {
  return new SnapshotReader(store).manifest('acme', snapshotId);
}

describe('which objects a run exports, and how', () => {
  it.each([
    ['Orders__x', 'not-stored'],
    ['Alert__e', 'not-stored'],
    ['AccountChangeEvent', 'not-stored'],
    ['LoginEventStream', 'not-stored'],
    ['Readings__b', 'needs-filter'],
    ['Vote', 'needs-filter'],
    ['IdeaComment', 'needs-filter'],
    ['ActivityHistory', 'derived'],
    ['UserRecordAccess', 'derived'],
    ['AccountFeed', 'derived'],
    ['ContentBody', 'not-queryable'],
  ])('skips %s as %s, with a one-line reason', (name, reasonCode) => {
    const decision = decideObject(global(name), false);
    expect(decision).toMatchObject({ kind: 'skip', reasonCode });
    expect(decision.kind === 'skip' && decision.reason).toMatch(/^[^\n]{10,}$/);
  });

  it('says an event holds no rows even where describeGlobal marks it not queryable', () => {
    expect(decideObject(global('Alert__e', { queryable: false }), false)).toMatchObject({
      reasonCode: 'not-stored',
    });
    expect(decideObject(global('AccountChangeEvent', { queryable: false }), false)).toMatchObject({
      reasonCode: 'not-stored',
    });
  });

  it('skips what describeGlobal marks not queryable or not retrieveable as not-queryable', () => {
    expect(decideObject(global('Account', { queryable: false }), false)).toMatchObject({
      reasonCode: 'not-queryable',
    });
    expect(decideObject(global('Account', { retrieveable: false }), false)).toMatchObject({
      reasonCode: 'not-queryable',
    });
  });

  it.each(['Account', 'AccountHistory', 'AccountShare', 'Rate__mdt', 'FeedItem'])(
    'exports %s with one query of every row',
    (name) => {
      expect(decideObject(global(name), false)).toEqual({ kind: 'export', strategy: { kind: 'all' } });
    },
  );

  it('exports Knowledge article versions once per PublishStatus and ContentDocumentLink per parent document', () => {
    for (const name of ['KnowledgeArticleVersion', 'Knowledge__kav']) {
      expect(decideObject(global(name), false)).toEqual({
        kind: 'export',
        strategy: { kind: 'per-status', field: 'PublishStatus', values: ['Online', 'Draft', 'Archived'] },
      });
    }
    expect(decideObject(global('ContentDocumentLink'), false)).toEqual({
      kind: 'export',
      strategy: { kind: 'per-parent', parent: 'ContentDocument', field: 'ContentDocumentId' },
    });
  });

  it('tries an object the settings include by name the plain way, whatever its category', () => {
    expect(decideObject(global('Orders__x'), true)).toEqual({ kind: 'export', strategy: { kind: 'all' } });
  });

  it("tells Salesforce's permanent refusals from failures that may pass", () => {
    const restriction = (text: string) =>
      new SalesforceQueryError(
        `queryAll: MALFORMED_QUERY: Implementation restriction: ${text}`,
        'MALFORMED_QUERY',
        400,
      );
    // A filter restriction is accepted for an object known to need one, or one the answer names.
    expect(
      classifyRefusal(restriction('When querying the Vote object, you must filter'), 'Vote'),
    ).toMatchObject({ reasonCode: 'needs-filter' });
    expect(classifyRefusal(restriction('filter on the index'), 'Readings__b')).toMatchObject({
      reasonCode: 'needs-filter',
    });
    expect(
      classifyRefusal(restriction('Gadget__c requires a filter by ParentId'), 'Gadget__c'),
    ).toMatchObject({ reasonCode: 'needs-filter' });
    // The same code for an ordinary object is a failure: the user may lack a permission.
    expect(
      classifyRefusal(restriction('activity aggregate relationships only allow security evaluation'), 'Task'),
    ).toBeUndefined();
    expect(classifyRefusal(restriction('Gadget__c requires a filter by ParentId'), 'Task')).toBeUndefined();
    expect(
      classifyRefusal(new SalesforceRequestError('x', 'INVALID_TYPE_FOR_OPERATION', 400), 'Widget__c'),
    ).toMatchObject({ reasonCode: 'not-queryable' });
    // An external data source that does not answer may answer later: not a refusal.
    expect(
      classifyRefusal(
        new SalesforceRequestError('x', 'EXTERNAL_OBJECT_CONNECTION_EXCEPTION', 400),
        'Orders__x',
      ),
    ).toBeUndefined();
    expect(
      classifyRefusal(new SalesforceQueryError('bad field', 'MALFORMED_QUERY', 400), 'Account'),
    ).toBeUndefined();
    expect(
      classifyRefusal(new SalesforceTransientError('HTTP 503', 'SERVER_UNAVAILABLE', 503), 'Account'),
    ).toBeUndefined();
    expect(classifyRefusal(new Error('anything else'), 'Account')).toBeUndefined();
  });

  it('reads changes by CreatedDate only for append-only history objects', () => {
    expect(watermarkFieldOf('AccountHistory', ['Id', 'CreatedDate'])).toBe('CreatedDate');
    expect(watermarkFieldOf('Widget__History', ['Id', 'CreatedDate'])).toBe('CreatedDate');
    expect(watermarkFieldOf('OpportunityFieldHistory', ['Id', 'CreatedDate'])).toBe('CreatedDate');
    // Rows of other objects may change after they are created: exported in full every run.
    expect(watermarkFieldOf('Reading__c', ['Id', 'CreatedDate'])).toBeNull();
    expect(watermarkFieldOf('Reading__c', ['Id', 'LastModifiedDate', 'CreatedDate'])).toBe(
      'LastModifiedDate',
    );
  });
});

describe('parent id batches', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `069${String(i).padStart(15, '0')}`);
  // As a URL carries it: fetch escapes the quotes encodeURIComponent leaves.
  const encoded = (text: string) => new URL(`https://x/q?q=${encodeURIComponent(text)}`).search.length - 3;

  it('cuts the ids into IN clauses that keep each statement within the limit URL-encoded, covering every id once', () => {
    const fixed = encoded('SELECT Id FROM ContentDocumentLink WHERE ');
    const clauses = parentIdClauses('ContentDocumentId', ids, fixed, 300);
    expect(clauses.length).toBeGreaterThan(4);
    for (const clause of clauses) expect(fixed + encoded(clause)).toBeLessThanOrEqual(300);
    // Each batch is as full as the limit allows: one more id (a comma and a quoted id, 3 + 24 bytes encoded) would not fit.
    for (const clause of clauses.slice(0, -1)) expect(fixed + encoded(clause) + 27).toBeGreaterThan(300);
    const back = clauses.flatMap((c) => c.replace(/^ContentDocumentId IN \(|\)$/g, '').split(','));
    expect(back).toEqual(ids.map((id) => `'${id}'`));
  });

  it('refuses what is not a record id, so nothing but ids reaches the query', () => {
    expect(() => parentIdClauses('ContentDocumentId', ["069' OR Id != '"], 10)).toThrow(
      /not a Salesforce record id/,
    );
  });

  it("sizes batches by default for a REST query's URL, which Salesforce limits to 16,384 bytes with the headers", () => {
    expect(REST_QUERY_MAX_ENCODED).toBe(14_000);
    const many = Array.from({ length: 5_000 }, (_, i) => `069${String(i).padStart(15, '0')}`);
    const fixed = encoded('SELECT Id, LinkedEntityId FROM ContentDocumentLink WHERE ');
    const clauses = parentIdClauses('ContentDocumentId', many, fixed);
    for (const clause of clauses) expect(fixed + encoded(clause)).toBeLessThanOrEqual(14_000);
    for (const clause of clauses.slice(0, -1)) expect(fixed + encoded(clause) + 27).toBeGreaterThan(14_000);
    expect(clauses.join(',').split(',')).toHaveLength(5_000);
  });
});

describe('a refusal is not a failure, a failure is not a refusal', () => {
  function org(extra: FakeObject[] = []): FakeSource {
    return new FakeSource([
      object('Account'),
      object('Orders__x'),
      object('AccountFeed'),
      object('Readings__b'),
      object('Widget__c', {
        refuse: () =>
          new SalesforceRequestError(
            'Bulk query job: INVALID_TYPE_FOR_OPERATION',
            'INVALID_TYPE_FOR_OPERATION',
            400,
          ),
      }),
      object('Gadget__c', { requiresFilter: ['ParentId'] }),
      ...extra,
    ]);
  }

  it('completes with every refused object skipped and its reason in the manifest', async () => {
    const { finish, store } = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      { excludeObjects: ['Contact'] },
    );
    expect(finish.status).toBe('complete');
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects.map((o) => o.name)).toEqual(['Account']);
    const skipped = Object.fromEntries(manifest.skippedObjects.map((o) => [o.name, o.reasonCode]));
    expect(skipped).toEqual({
      AccountFeed: 'derived',
      Contact: 'excluded',
      Gadget__c: 'needs-filter',
      Orders__x: 'not-stored',
      Readings__b: 'needs-filter',
      Widget__c: 'not-queryable',
    });
    for (const entry of manifest.skippedObjects) expect(entry.reason.length).toBeGreaterThan(10);
  });

  it('says once which objects became skipped, and is silent about them on the next run', async () => {
    const store = new MemoryStore();
    const first = await runCore(org(), { org: 'acme', mode: 'full' }, { excludeObjects: ['Contact'] }, store);
    const firstTime = async (snapshotId: string) =>
      (await manifestOf(store, snapshotId)).skippedObjects.filter((o) => o.firstTime).map((o) => o.name);
    expect(await firstTime(first.finish.snapshotId)).toEqual([
      'AccountFeed',
      'Gadget__c',
      'Orders__x',
      'Readings__b',
      'Widget__c',
    ]);
    expect(first.finish).toMatchObject({ objectsSkipped: 6, objectsNewlySkipped: 5 });
    expect(first.finish.hasAnomalies).toBe(true);
    expect(first.finish.anomalyMessage).toMatch(/leaves out 5 objects.*\n- AccountFeed: derived: /);
    expect(first.finish.anomalyMessage).not.toContain('Contact');

    const second = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      { excludeObjects: ['Contact'] },
      store,
    );
    expect(second.finish.status).toBe('complete');
    expect(await firstTime(second.finish.snapshotId)).toEqual([]);
    expect(second.finish).toMatchObject({ objectsSkipped: 6, objectsNewlySkipped: 0 });
    expect(second.finish.hasAnomalies).toBe(false);
    expect(second.finish.anomalyMessage).toBe('');

    const third = await runCore(
      org([object('Invoice__c', { requiresFilter: ['AccountId'] })]),
      { org: 'acme', mode: 'full' },
      { excludeObjects: ['Contact'] },
      store,
    );
    expect(await firstTime(third.finish.snapshotId)).toEqual(['Invoice__c']);
    expect(third.finish.anomalyMessage).toMatch(
      /leaves out 1 object it did not leave out before:\n- Invoice__c: needs-filter: /,
    );
  });

  it('still fails the run when one object fails in a way that may pass', async () => {
    const source = org([
      object('Contact', {
        // The plan's COUNT() passes; every export query meets a 503.
        refuse: (soql) =>
          soql.startsWith('SELECT COUNT()')
            ? undefined
            : new SalesforceTransientError('queryAll: HTTP 503', 'SERVER_UNAVAILABLE', 503),
      }),
    ]);
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('failed');
    expect(finish.problems.join('\n')).toMatch(/Contact: SalesforceTransientError/);
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.skippedObjects.map((o) => o.name)).not.toContain('Contact');
  });

  it('fails the run naming an object the settings include by name when Salesforce refuses it', async () => {
    const { finish } = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      { includeObjects: ['Account', 'Gadget__c'] },
    );
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(
      expect.stringMatching(
        /^Gadget__c: included by name in the settings, but Salesforce refuses it: needs-filter: /,
      ),
    );
  });

  it('tries an included external object, and fails naming it, after retries, when its data source does not answer', async () => {
    const source = org();
    source.object('Orders__x').refuse = (soql) =>
      soql.startsWith('SELECT COUNT()')
        ? undefined
        : new SalesforceTransientError(
            'queryAll: EXTERNAL_OBJECT_CONNECTION_EXCEPTION',
            'EXTERNAL_OBJECT_CONNECTION_EXCEPTION',
            400,
          );
    const { finish } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { includeObjects: ['Orders__x'] },
    );
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(expect.stringMatching(/^Orders__x: SalesforceTransientError/));
    // The Bulk job's creation meets it, tried three times, as the workflow's retry does.
    expect(
      source.soqlLog.filter((q) => q.includes('FROM Orders__x') && !q.startsWith('SELECT COUNT()')),
    ).toHaveLength(3);
  });

  it('fails the run naming an ordinary object refused with an implementation restriction, which may be a missing permission', async () => {
    const source = org([
      object('Task', {
        refuse: (soql) =>
          soql.startsWith('SELECT COUNT()')
            ? undefined
            : new SalesforceQueryError(
                'queryAll: MALFORMED_QUERY: Implementation restriction: activity aggregate relationships only allow security evaluation for non-admin users when a single parent record is evaluated',
                'MALFORMED_QUERY',
                400,
              ),
      }),
    ]);
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(expect.stringMatching(/^Task: SalesforceQueryError/));
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.skippedObjects.map((o) => o.name)).not.toContain('Task');
  });

  it('fails the run naming an object the previous snapshot held that Salesforce now refuses', async () => {
    const store = new MemoryStore();
    const source = org([object('Ledger__c')]);
    const first = await runCore(source, { org: 'acme', mode: 'full' }, {}, store);
    expect(first.finish.status).toBe('complete');
    source.object('Ledger__c').refuse = () =>
      new SalesforceRequestError('queryAll: INVALID_TYPE_FOR_OPERATION', 'INVALID_TYPE_FOR_OPERATION', 400);
    for (const mode of ['full', 'incremental'] as const) {
      const { finish } = await runCore(source, { org: 'acme', mode }, {}, store);
      expect(finish.status, mode).toBe('failed');
      expect(finish.problems).toContainEqual(
        expect.stringMatching(
          /^Ledger__c: the previous snapshot held it, but Salesforce now refuses it: not-queryable: /,
        ),
      );
    }
  });

  it('says so when an object the configuration excluded before is now refused', async () => {
    const store = new MemoryStore();
    const first = await runCore(
      org(),
      { org: 'acme', mode: 'full' },
      { excludeObjects: ['Gadget__c'] },
      store,
    );
    expect(first.finish.status).toBe('complete');
    const second = await runCore(org(), { org: 'acme', mode: 'full' }, {}, store);
    expect(second.finish.status).toBe('complete');
    expect(second.finish.objectsNewlySkipped).toBe(1);
    expect(second.finish.anomalyMessage).toMatch(/\n- Gadget__c: needs-filter: /);
  });

  it('fails the plan naming an included object describeGlobal marks not queryable', async () => {
    const source = org([object('Secret__c', { global: { queryable: false } })]);
    const run = runCore(source, { org: 'acme', mode: 'full' }, { includeObjects: ['Secret__c'] });
    await expect(run).rejects.toMatchObject({ name: ErrorName.IncludedObjectRefused });
    await expect(run).rejects.toThrow(/Secret__c \(not-queryable: describeGlobal marks it not queryable\)/);
  });
});

describe('Bulk refusals', () => {
  it('reads through REST an object Bulk refuses when the job is created (INVALIDENTITY)', async () => {
    const source = new FakeSource([object('Account'), object('TaskStatus', { bulk: false })]);
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('complete');
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects.find((o) => o.name === 'TaskStatus')).toMatchObject({ api: 'rest', rows: 1 });
  });

  it('reads through REST an object Bulk refuses when the job is created (INVALID_TYPE_FOR_OPERATION)', async () => {
    const source = new FakeSource([
      object('Account'),
      object('Widget__c', {
        bulkRefusal: () =>
          new SalesforceRequestError(
            'Bulk query job: INVALID_TYPE_FOR_OPERATION',
            'INVALID_TYPE_FOR_OPERATION',
            400,
          ),
      }),
    ]);
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('complete');
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects.find((o) => o.name === 'Widget__c')).toMatchObject({ api: 'rest', rows: 1 });
  });

  it('reads through REST an object whose Bulk job fails as not supported', async () => {
    const source = new FakeSource([object('Account')]);
    source.failNextJobs = 1;
    source.failedJobMessage = "Entity 'Account' is not supported by the Bulk API.";
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('complete');
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects[0]).toMatchObject({ name: 'Account', api: 'rest', rows: 1 });
  });
});

describe('objects Salesforce serves only with a filter we can supply', () => {
  it('exports Knowledge article versions with one query per PublishStatus', async () => {
    const fields = [...baseFields, { name: 'PublishStatus', type: 'picklist' }];
    const rows = ['Online', 'Draft', 'Archived'].map((status, i) => ({
      Id: `ka0${i}`,
      Name: status,
      IsDeleted: 'false',
      SystemModstamp: T0,
      PublishStatus: status,
    }));
    const source = new FakeSource([
      { name: 'KnowledgeArticleVersion', fields, rows, requiresFilter: ['PublishStatus', 'Id'] },
    ]);
    const { finish, store } = await runCore(source, { org: 'acme', mode: 'full' });
    expect(finish.status).toBe('complete');
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects[0]).toMatchObject({
      name: 'KnowledgeArticleVersion',
      rows: 3,
      strategy: 'per-status',
    });
    const queries = source.soqlLog.filter((q) => q.includes('FROM KnowledgeArticleVersion'));
    expect(queries).toHaveLength(3);
    expect(queries.map((q) => q.replace(/^.* WHERE /, ''))).toEqual([
      "PublishStatus = 'Online'",
      "PublishStatus = 'Draft'",
      "PublishStatus = 'Archived'",
    ]);
  });

  it('fails the object, not skips it, when Salesforce refuses a later status after earlier ones were written', async () => {
    const fields = [...baseFields, { name: 'PublishStatus', type: 'picklist' }];
    const rows = ['Online', 'Draft', 'Archived'].map((status, i) => ({
      Id: `ka0${i}`,
      Name: status,
      IsDeleted: 'false',
      SystemModstamp: T0,
      PublishStatus: status,
    }));
    const source = new FakeSource([
      {
        name: 'KnowledgeArticleVersion',
        fields,
        rows,
        requiresFilter: ['PublishStatus'],
        refuse: (soql) =>
          soql.includes("'Archived'")
            ? new SalesforceQueryError(
                'queryAll: MALFORMED_QUERY: Implementation restriction: KnowledgeArticleVersion requires a filter by PublishStatus',
                'MALFORMED_QUERY',
                400,
              )
            : undefined,
      },
    ]);
    // One status per invocation: Online and Draft are written by earlier invocations.
    const { finish, store } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { maxPagesPerInvocation: 1 },
    );
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(
      expect.stringMatching(/^KnowledgeArticleVersion: .*refuses .*after 2 parts were written/),
    );
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.skippedObjects.map((o) => o.name)).not.toContain('KnowledgeArticleVersion');
  });

  it('fails a plain object Salesforce refuses after its first page was written', async () => {
    const rows = ['a', 'b', 'c'].map((id) => ({ Id: id, Name: id, IsDeleted: 'false', SystemModstamp: T0 }));
    let queries = 0;
    const source = new FakeSource([
      {
        name: 'Widget__c',
        fields: baseFields,
        rows,
        bulk: false,
        // The Bulk job's creation (refused as unsupported) and REST's first page pass; the next page is refused.
        refuse: (soql) =>
          !soql.startsWith('SELECT COUNT()') && ++queries > 2
            ? new SalesforceRequestError(
                'queryAll: INVALID_TYPE_FOR_OPERATION',
                'INVALID_TYPE_FOR_OPERATION',
                400,
              )
            : undefined,
      },
    ]);
    const { finish } = await runCore(source, { org: 'acme', mode: 'full' }, { pageSize: 2 });
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(expect.stringMatching(/^Widget__c: .*after 1 part was written/));
  });

  it('queries filtered objects again on an incremental run, bounded by their watermark, and lists them unchanged when nothing changed', async () => {
    const fields = [...baseFields, { name: 'PublishStatus', type: 'picklist' }];
    const source = new FakeSource([
      {
        name: 'Knowledge__kav',
        fields,
        rows: [{ Id: 'ka01', Name: 'a', IsDeleted: 'false', SystemModstamp: T0, PublishStatus: 'Online' }],
        requiresFilter: ['PublishStatus'],
      },
    ]);
    const store = new MemoryStore();
    const hourLater = () => new Date(new Date(T0).getTime() + 3_600_000);
    await runCore(source, { org: 'acme', mode: 'full' }, {}, store, hourLater);
    source.soqlLog.length = 0;
    const twoHoursLater = () => new Date(new Date(T0).getTime() + 7_200_000);
    const { finish } = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, store, twoHoursLater);
    expect(finish.status).toBe('complete');
    expect(source.soqlLog).toHaveLength(3);
    for (const soql of source.soqlLog)
      expect(soql).toMatch(/WHERE PublishStatus = '\w+' AND SystemModstamp > \S+$/);
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects[0]).toMatchObject({
      name: 'Knowledge__kav',
      status: 'unchanged',
      strategy: 'per-status',
    });
  });

  it('exports ContentDocumentLink by batches of ContentDocumentId that fit a REST query URL, reading the parent ids page by page', async () => {
    const source = filesOrg();
    // One page per invocation: the export resumes batch by batch from its checkpoint.
    const { finish, store, invocations } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { maxPagesPerInvocation: 1 },
    );
    expect(finish.status).toBe('complete');
    // 6,000 ids read 2,000 at a time, each query after the last id read; the fourth finds none left.
    expect(parentReads(source)).toEqual([
      'SELECT Id FROM ContentDocument ORDER BY Id LIMIT 2000',
      `SELECT Id FROM ContentDocument WHERE Id > '${docId(1_999)}' ORDER BY Id LIMIT 2000`,
      `SELECT Id FROM ContentDocument WHERE Id > '${docId(3_999)}' ORDER BY Id LIMIT 2000`,
      `SELECT Id FROM ContentDocument WHERE Id > '${docId(5_999)}' ORDER BY Id LIMIT 2000`,
    ]);
    const batches = batchQueries(source);
    for (const soql of batches) {
      const url = new URL(`https://x/services/data/v62.0/queryAll?q=${encodeURIComponent(soql)}`);
      expect(url.pathname.length + url.search.length).toBeLessThan(14_100);
    }
    expect(batchIds(batches)).toEqual(documents().map((d) => d.Id));
    // ContentDocument in one invocation, ContentDocumentLink in one per batch.
    expect(invocations).toBe(1 + batches.length);
    const manifest = await manifestOf(store, finish.snapshotId);
    expect(manifest.objects.find((o) => o.name === 'ContentDocumentLink')).toMatchObject({
      rows: links().length,
      api: 'rest',
      strategy: 'per-parent',
    });
    expect(await linkIds(store, finish.snapshotId)).toEqual(links().map((l) => l.Id));
  });

  it('reads the parent ids across invocations when the deadline passes, with exactly the rows of a run without one', async () => {
    const source = filesOrg();
    let now = new Date(T1).getTime();
    // Every reading of the clock is a minute later: each invocation's budget passes after its first page.
    const clock = () => {
      now += 60_000;
      return new Date(now);
    };
    const { finish, store, invocations } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { invocationBudgetMs: 1 },
      new MemoryStore(),
      clock,
    );
    expect(finish.status).toBe('complete');
    expect(parentReads(source)).toHaveLength(4);
    const batches = batchQueries(source);
    expect(batchIds(batches)).toEqual(documents().map((d) => d.Id));
    // Four invocations read the parent ids, then one per batch.
    expect(invocations).toBeGreaterThanOrEqual(1 + 3 + batches.length);
    expect(await linkIds(store, finish.snapshotId)).toEqual(links().map((l) => l.Id));
  });

  it('resumes without a duplicate or a gap when an invocation stopped between writing a filter file and its checkpoint', async () => {
    const source = filesOrg();
    let stopped = false;
    class StoppingStore extends MemoryStore {
      override async put(key: string, body: Uint8Array | string): Promise<StoredObject> {
        const stored = await super.put(key, body);
        if (!stopped && /ContentDocumentLink\.filters\/000003\.json$/.test(key)) {
          stopped = true;
          // As a Lambda timing out: the write is in the vault, the checkpoint never returned.
          throw new SalesforceTransientError('the invocation ended');
        }
        return stored;
      }
    }
    const { finish, store } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { maxPagesPerInvocation: 1 },
      new StoppingStore(),
    );
    expect(stopped).toBe(true);
    expect(finish.status).toBe('complete');
    // Every parent id is in exactly one batch, and every link is in the snapshot once.
    expect(batchIds(batchQueries(source))).toEqual(documents().map((d) => d.Id));
    expect(await linkIds(store, finish.snapshotId)).toEqual(links().map((l) => l.Id));
  });

  it('counts the parent reads and the batches in the call estimate', async () => {
    const source = filesOrg();
    source.limitsRemaining = 5;
    const error = await runCore(source, { org: 'acme', mode: 'full' }).catch((e: Error) => e);
    const estimate = Number(/needs about (\d+) API calls/.exec(String(error))?.[1]);
    // ContentDocument: a Bulk job (3 calls and a page); ContentDocumentLink: 4 reads of 2,000
    // parent ids, 12 batches of at most 518 ids, and at least 3 pages of rows; a Composite call.
    expect(estimate).toBeGreaterThanOrEqual(4 + 4 + 12 + 3 + 1);
  });

  it('estimates an incremental run by the parent ids the last full run counted, without a call to count them', async () => {
    const source = filesOrg();
    const store = new MemoryStore();
    const hourLater = () => new Date(new Date(T0).getTime() + 3_600_000);
    await runCore(source, { org: 'acme', mode: 'full' }, {}, store, hourLater);
    source.limitsRemaining = 5;
    source.soqlLog.length = 0;
    const twoHoursLater = () => new Date(new Date(T0).getTime() + 7_200_000);
    // Pages of 1,000 rows: an estimate that knew nothing of the parent would take 1,000 ids.
    const error = await runCore(
      source,
      { org: 'acme', mode: 'incremental' },
      { pageSize: 1_000 },
      store,
      twoHoursLater,
    ).catch((e: Error) => e);
    const estimate = Number(/needs about (\d+) API calls/.exec(String(error))?.[1]);
    expect(estimate).toBeGreaterThanOrEqual(4 + 12 + 3);
    expect(source.soqlLog).not.toContain('SELECT COUNT() FROM ContentDocument');
  });
});

const docId = (i: number) => `069${String(i).padStart(15, '0')}`;

function documents() {
  return Array.from({ length: 6_000 }, (_, i) => ({
    Id: docId(i),
    Name: `doc ${i}`,
    IsDeleted: 'false',
    SystemModstamp: T0,
  }));
}

/** A link on every seventh document, and on the last. */
function links() {
  const docs = documents();
  return docs
    .filter((_, i) => i % 7 === 0 || i === docs.length - 1)
    .map((doc, i) => ({
      Id: `06A${String(i).padStart(15, '0')}`,
      Name: '',
      IsDeleted: 'false',
      SystemModstamp: T0,
      ContentDocumentId: doc.Id,
      LinkedEntityId: `001${String(i).padStart(15, '0')}`,
    }));
}

function filesOrg(): FakeSource {
  const linkFields = [
    ...baseFields,
    { name: 'ContentDocumentId', type: 'reference' },
    { name: 'LinkedEntityId', type: 'reference' },
  ];
  const source = new FakeSource([
    { name: 'ContentDocument', fields: baseFields, rows: documents() },
    {
      name: 'ContentDocumentLink',
      fields: linkFields,
      rows: links(),
      requiresFilter: ['ContentDocumentId', 'LinkedEntityId', 'Id'],
    },
  ]);
  source.restPageSize = 2_000;
  return source;
}

function parentReads(source: FakeSource): string[] {
  return source.soqlLog.filter((q) => q.startsWith('SELECT Id FROM ContentDocument'));
}

function batchQueries(source: FakeSource): string[] {
  return source.soqlLog.filter((q) =>
    q.startsWith('SELECT Id, Name, IsDeleted, SystemModstamp, ContentDocumentId'),
  );
}

/** The parent ids the batches filter on, in order. */
function batchIds(batches: readonly string[]): string[] {
  return batches.flatMap((q) => [...q.matchAll(/'(069\w+)'/g)].map((m) => m[1]!));
}

async function linkIds(store: MemoryStore, snapshotId: string): Promise<string[]> {
  const rows = await new SnapshotReader(store).pointInTime('acme', snapshotId);
  const ids: string[] = [];
  for await (const row of rows.rows('ContentDocumentLink')) ids.push(row.id);
  return ids.sort();
}

describe('watermarks per object', () => {
  function org(): FakeSource {
    const modstamp = object('Account');
    const lastModified: FakeObject = {
      name: 'Ledger__c',
      fields: [
        { name: 'Id', type: 'id' },
        { name: 'Name', type: 'string' },
        { name: 'LastModifiedDate', type: 'datetime' },
      ],
      rows: [{ Id: 'L-1', Name: 'one', LastModifiedDate: T0 }],
    };
    const history: FakeObject = {
      name: 'AccountHistory',
      fields: [
        { name: 'Id', type: 'id' },
        { name: 'Field', type: 'string' },
        { name: 'CreatedDate', type: 'datetime' },
      ],
      rows: [{ Id: 'H-1', Field: 'Name', CreatedDate: T0 }],
    };
    const none: FakeObject = {
      name: 'Rate__c',
      fields: [
        { name: 'Id', type: 'id' },
        { name: 'Name', type: 'string' },
      ],
      rows: [{ Id: 'R-1', Name: 'one' }],
    };
    return new FakeSource([modstamp, lastModified, history, none]);
  }

  it('reads changes by SystemModstamp, else LastModifiedDate, else CreatedDate, and exports an object with none in full', async () => {
    const store = new MemoryStore();
    const source = org();
    const hourLater = new Date(new Date(T0).getTime() + 3_600_000);
    const first = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => hourLater);
    const full = await manifestOf(store, first.finish.snapshotId);
    expect(Object.fromEntries(full.objects.map((o) => [o.name, o.watermarkField]))).toEqual({
      Account: 'SystemModstamp',
      AccountHistory: 'CreatedDate',
      Ledger__c: 'LastModifiedDate',
      Rate__c: null,
    });

    source.object('AccountHistory').rows.push({ Id: 'H-2', Field: 'Phone', CreatedDate: T1 });
    source.soqlLog.length = 0;
    const later = new Date(new Date(T1).getTime() + 60_000);
    const second = await runCore(source, { org: 'acme', mode: 'incremental' }, {}, store, () => later);
    expect(second.finish.status).toBe('complete');
    const counts = source.soqlLog.filter((q) => q.startsWith('SELECT COUNT()'));
    expect(counts.map((q) => q.replace(/ > \S+$/, ''))).toEqual([
      'SELECT COUNT() FROM Account WHERE SystemModstamp',
      'SELECT COUNT() FROM AccountHistory WHERE CreatedDate',
      'SELECT COUNT() FROM Ledger__c WHERE LastModifiedDate',
    ]);
    const incremental = await manifestOf(store, second.finish.snapshotId);
    const byName = Object.fromEntries(incremental.objects.map((o) => [o.name, o]));
    expect(byName.Account).toMatchObject({ status: 'unchanged', watermarkField: 'SystemModstamp' });
    expect(byName.Ledger__c).toMatchObject({ status: 'unchanged', watermarkField: 'LastModifiedDate' });
    expect(byName.AccountHistory).toMatchObject({
      status: 'exported',
      rows: 1,
      watermarkField: 'CreatedDate',
    });
    expect(byName.AccountHistory!.since).not.toBeNull();
    expect(byName.Rate__c).toMatchObject({ status: 'exported', rows: 1, since: null, watermarkField: null });
    const exports = source.soqlLog.filter((q) => !q.startsWith('SELECT COUNT()'));
    expect(exports).toContainEqual(expect.stringMatching(/FROM AccountHistory WHERE CreatedDate > \S+$/));
    expect(exports).toContainEqual('SELECT Id, Name FROM Rate__c');
  });
});

describe('older manifests', () => {
  it('still parse without the reason codes, watermark fields and strategies', () => {
    const old = {
      formatVersion: 1,
      snapshotId: '20260101T000000000Z-abcdef',
      runId: 'local',
      org: 'acme',
      orgId: '00D000000000001AAA',
      apiVersion: '62.0',
      mode: 'full',
      requestedMode: 'full',
      baseSnapshotId: null,
      startedAt: T0,
      finishedAt: T0,
      watermark: T0,
      overlapSeconds: 300,
      objects: [
        {
          name: 'Account',
          status: 'exported',
          api: 'bulk',
          fields: [{ name: 'Id', type: 'id', inCsv: true }],
          rows: 0,
          deletedRows: 0,
          bytes: 0,
          parts: [],
          since: null,
          watermark: T0,
          apiCalls: 3,
        },
      ],
      skippedObjects: [{ name: 'Vote', reason: 'queries need a filter on ParentId' }],
      files: [],
      metadata: { included: false, components: 0, parts: [] },
      apiCalls: { total: 3, plan: 0, export: 3, files: 0, metadata: 0, finish: 0 },
      errors: [],
    };
    const manifest = parseManifest(JSON.stringify(old), 'old.json');
    expect(manifest.skippedObjects[0]).toEqual({ name: 'Vote', reason: 'queries need a filter on ParentId' });
    expect(manifest.objects[0]!.watermarkField).toBeUndefined();
  });
});
