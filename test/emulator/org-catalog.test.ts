import { describe, expect, it } from 'vitest';
import { SalesforceError } from '../../emulator/org/api.ts';
import { createOrg } from '../../emulator/org/org.ts';
import { parseCatalog, productionCatalog } from '../../emulator/org/standard-catalog.ts';
import { CATALOG_ROWS } from '../../emulator/org/standard-catalog-data.ts';

const NOW = new Date('2026-03-01T10:00:00.000Z');

function productionOrg() {
  return createOrg({ catalog: 'production', now: () => NOW });
}

function refusal(run: () => unknown): SalesforceError {
  try {
    run();
  } catch (error) {
    if (error instanceof SalesforceError) return error;
    throw error;
  }
  throw new Error('expected a SalesforceError');
}

function fieldNames(org: ReturnType<typeof productionOrg>, name: string): string[] {
  return org.describe(name).fields.map((f) => f.name);
}

describe('production catalog: describe', () => {
  it('lists hundreds of standard objects beyond the modelled ones, and only with the option', () => {
    const core = createOrg();
    const production = productionOrg();
    expect(core.describeGlobal().length).toBeLessThan(30);
    expect(core.findObject('AccountHistory')).toBeUndefined();
    const names = production.describeGlobal().map((d) => d.name);
    expect(names.length).toBeGreaterThanOrEqual(450);
    expect(names).toEqual(
      expect.arrayContaining(['AccountHistory', 'AccountShare', 'AccountFeed', 'ApexClass']),
    );
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    const prefixes = production.describeGlobal().map((d) => d.keyPrefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('keeps the richly modelled objects exactly as they are', () => {
    const core = createOrg();
    const production = productionOrg();
    for (const name of ['Account', 'Contact', 'ContentVersion', 'TaskStatus', 'AccountChangeEvent']) {
      const { queryRestriction: _ignored, childRelationships: _a, ...prod } = production.describe(name);
      const { childRelationships: _b, ...base } = core.describe(name);
      expect(prod).toEqual(base);
    }
  });

  it('gives each kind of object the describe flags Salesforce gives it', () => {
    const org = productionOrg();
    const flags = (name: string) => {
      const d = org.describe(name);
      return {
        queryable: d.queryable,
        createable: d.createable,
        replicateable: d.replicateable,
        bulkQueryable: d.bulkQueryable,
        custom: d.custom,
      };
    };
    expect(flags('AccountHistory')).toEqual({
      queryable: true,
      createable: false,
      replicateable: true,
      bulkQueryable: true,
      custom: false,
    });
    expect(flags('AccountShare')).toMatchObject({ queryable: true, createable: true });
    expect(flags('ActivityHistory').queryable).toBe(false);
    expect(flags('OpportunityChangeEvent').queryable).toBe(false);
    expect(org.describe('Order_Event__e')).toMatchObject({
      queryable: false,
      createable: true,
      custom: true,
    });
    expect(flags('TaskPriority')).toMatchObject({ queryable: true, bulkQueryable: false });
    expect(flags('Orders__x')).toMatchObject({ queryable: true, bulkQueryable: false, custom: true });
    expect(flags('Customer_Interaction__b')).toMatchObject({ queryable: true, bulkQueryable: false });
    expect(flags('Support_Tier__mdt')).toMatchObject({ queryable: true, bulkQueryable: false });
    expect(org.describe('Integration_Settings__c')).toMatchObject({
      customSetting: true,
      bulkQueryable: true,
    });
  });

  it('gives history objects CreatedDate but no LastModifiedDate or SystemModstamp, shares LastModifiedDate, feeds SystemModstamp', () => {
    const org = productionOrg();
    const history = fieldNames(org, 'AccountHistory');
    expect(history).toEqual(expect.arrayContaining(['Id', 'AccountId', 'Field', 'CreatedDate', 'IsDeleted']));
    expect(history).not.toContain('SystemModstamp');
    expect(history).not.toContain('LastModifiedDate');
    const share = fieldNames(org, 'AccountShare');
    expect(share).toEqual(
      expect.arrayContaining(['AccountId', 'UserOrGroupId', 'RowCause', 'LastModifiedDate']),
    );
    expect(share).not.toContain('SystemModstamp');
    expect(fieldNames(org, 'AccountFeed')).toEqual(
      expect.arrayContaining(['ParentId', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp']),
    );
  });

  it('refuses a malformed catalog row, naming the line', () => {
    expect(() => parseCatalog('\nAccountHistory sideways DC AccountId\n')).toThrow(/Catalog line 1/);
    expect(() => parseCatalog('AccountHistory history XYZ')).toThrow(/audit letters/);
    expect(parseCatalog(CATALOG_ROWS).length).toBeGreaterThanOrEqual(300);
    expect(productionCatalog().length).toBe(parseCatalog(CATALOG_ROWS).length + 5);
  });
});

describe('production catalog: queries', () => {
  it('writes the created history row and the owner share row of a new account', () => {
    const org = productionOrg();
    const id = org.insert('Account', { Name: 'Acme' });
    const history = [...org.query('SELECT AccountId, Field, CreatedDate FROM AccountHistory').records()];
    expect(history).toEqual([
      expect.objectContaining({
        AccountId: id,
        Field: 'created',
        CreatedDate: '2026-03-01T10:00:00.000+0000',
      }),
    ]);
    const shares = [
      ...org
        .query('SELECT AccountId, UserOrGroupId, AccountAccessLevel, RowCause FROM AccountShare')
        .records(),
    ];
    expect(shares).toEqual([
      expect.objectContaining({
        AccountId: id,
        UserOrGroupId: org.user.id,
        AccountAccessLevel: 'All',
        RowCause: 'Owner',
      }),
    ]);
    org.delete([id]);
    expect(org.query('SELECT COUNT() FROM AccountHistory').totalSize()).toBe(0);
    expect(org.query('SELECT COUNT() FROM AccountHistory', { includeDeleted: true }).totalSize()).toBe(1);
  });

  it('answers non-queryable objects with INVALID_TYPE_FOR_OPERATION and unknown ones with INVALID_TYPE', () => {
    const org = productionOrg();
    for (const name of ['ActivityHistory', 'AccountChangeEvent', 'Order_Event__e', 'AggregateResult']) {
      const e = refusal(() => org.query(`SELECT Id FROM ${name}`));
      expect(e.errorCode).toBe('INVALID_TYPE_FOR_OPERATION');
      expect(e.message).toContain(`entity type ${name} does not support query`);
    }
    expect(refusal(() => org.query('SELECT Id FROM NoSuchThing')).errorCode).toBe('INVALID_TYPE');
  });

  it('requires the key filter of filter-required objects, with = or IN in the top-level AND', () => {
    const org = productionOrg();
    const account = org.insert('Account', { Name: 'Acme' });
    const e = refusal(() => org.query('SELECT Id FROM ContentDocumentLink'));
    expect(e.errorCode).toBe('MALFORMED_QUERY');
    expect(e.message).toBe(
      "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.",
    );
    expect(
      org.query(`SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '${account}'`).totalSize(),
    ).toBe(0);
    expect(
      org
        .query('SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId IN (SELECT Id FROM Account)')
        .totalSize(),
    ).toBe(0);
    expect(
      refusal(() => org.query(`SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId != '${account}'`))
        .errorCode,
    ).toBe('MALFORMED_QUERY');
    expect(
      refusal(() =>
        org.query(
          `SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '${account}' OR ShareType = 'V'`,
        ),
      ).errorCode,
    ).toBe('MALFORMED_QUERY');
    expect(refusal(() => org.query('SELECT COUNT() FROM IdeaComment')).message).toContain(
      'IdeaComment requires a filter by a single Id on IdeaId',
    );
    expect(
      refusal(() => org.query(`SELECT Id FROM UserRecordAccess WHERE UserId = '${org.user.id}'`)).message,
    ).toBe(
      "Implementation restriction: UserRecordAccess requires a filter by UserId and RecordId using the equals operator or multiple Id's using the IN operator.",
    );
    expect(
      org
        .query(
          `SELECT Id FROM UserRecordAccess WHERE UserId = '${org.user.id}' AND RecordId IN ('${account}')`,
        )
        .totalSize(),
    ).toBe(0);
  });

  it('leaves ContentDocumentLink unrestricted in the core catalog', () => {
    expect(createOrg().query('SELECT COUNT() FROM ContentDocumentLink').totalSize()).toBe(0);
  });

  it('requires PublishStatus (or Id) on Knowledge article versions', () => {
    const org = productionOrg();
    for (const name of ['KnowledgeArticleVersion', 'Knowledge__kav']) {
      const e = refusal(() => org.query(`SELECT Id, Title FROM ${name} WHERE Language = 'en_US'`));
      expect(e.errorCode).toBe('MALFORMED_QUERY');
      expect(e.message).toBe(
        `Implementation restriction: When querying or searching the ${name} object, you must filter using the following syntax: Id = [single ID], Id IN [list of ID's], or PublishStatus = [status]. In addition PublishStatus is only permitted in a top-level AND condition.`,
      );
      expect(
        org.query(`SELECT Id FROM ${name} WHERE PublishStatus = 'Online' AND Language = 'en_US'`).totalSize(),
      ).toBe(0);
      // The message allows PublishStatus with `=` only, Id with `=` or IN.
      const listed = refusal(() =>
        org.query(`SELECT Id FROM ${name} WHERE PublishStatus IN ('Online', 'Draft')`),
      );
      expect(listed.message).toBe(e.message);
      expect(org.query(`SELECT Id FROM ${name} WHERE Id IN ('ka0000000000001')`).totalSize()).toBe(0);
    }
  });

  it('queries big objects only by their index fields in order', () => {
    const org = productionOrg();
    const account = org.insert('Account', { Name: 'Acme' });
    const refused = [
      'SELECT Game_Platform__c FROM Customer_Interaction__b',
      "SELECT Game_Platform__c FROM Customer_Interaction__b WHERE Game_Platform__c = 'PS5'",
      `SELECT Game_Platform__c FROM Customer_Interaction__b WHERE Account__c = '${account}' AND Play_Date__c > 2026-01-01T00:00:00Z`,
      `SELECT Game_Platform__c FROM Customer_Interaction__b WHERE Account__c > '${account}' AND Game_Platform__c = 'PS5'`,
      `SELECT Game_Platform__c FROM Customer_Interaction__b WHERE Account__c = '${account}' OR Game_Platform__c = 'PS5'`,
    ];
    for (const soql of refused) {
      const e = refusal(() => org.query(soql));
      expect(e.errorCode, soql).toBe('MALFORMED_QUERY');
      expect(e.message).toContain('Account__c, Game_Platform__c, Play_Date__c');
    }
    const accepted = [
      `SELECT Game_Platform__c FROM Customer_Interaction__b WHERE Account__c = '${account}'`,
      `SELECT Game_Platform__c FROM Customer_Interaction__b WHERE Account__c = '${account}' AND Game_Platform__c IN ('PS5', 'PC') AND Play_Date__c >= 2026-01-01T00:00:00Z`,
    ];
    for (const soql of accepted) expect(org.query(soql).totalSize(), soql).toBe(0);
    expect(refusal(() => org.query('SELECT Id FROM FieldHistoryArchive')).errorCode).toBe('MALFORMED_QUERY');
    expect(
      org.query("SELECT Field FROM FieldHistoryArchive WHERE FieldHistoryType = 'Account'").totalSize(),
    ).toBe(0);
  });

  it('fails every query of an external object with the unreachable data source error', () => {
    const e = refusal(() => productionOrg().query('SELECT ExternalId FROM Orders__x'));
    expect(e.errorCode).toBe('EXTERNAL_OBJECT_CONNECTION_EXCEPTION');
    expect(e.message).toContain('Orders__x');
  });

  it('queries custom metadata types and custom settings by REST; Bulk refuses custom metadata', () => {
    const org = productionOrg();
    expect(org.query('SELECT DeveloperName FROM Support_Tier__mdt').totalSize()).toBe(0);
    expect(org.query('SELECT Name FROM Integration_Settings__c').totalSize()).toBe(0);
    expect(
      refusal(() => org.query('SELECT DeveloperName FROM Support_Tier__mdt', { bulk: true })),
    ).toMatchObject({
      errorCode: 'INVALIDENTITY',
      message: "Entity 'Support_Tier__mdt' is not supported by the Bulk API.",
    });
    expect(org.query('SELECT Name FROM Integration_Settings__c', { bulk: true }).info.bulkRefusal).toBeNull();
  });

  it('refuses objects Bulk does not support before any filter rule, and accepts them by REST', () => {
    const org = productionOrg();
    expect(org.query('SELECT Id FROM TaskPriority').totalSize()).toBe(0);
    for (const soql of [
      'SELECT Id FROM TaskPriority',
      'SELECT Game_Platform__c FROM Customer_Interaction__b',
    ]) {
      expect(refusal(() => org.query(soql, { bulk: true })).errorCode).toBe('INVALIDENTITY');
    }
    expect(refusal(() => org.query('SELECT Id FROM ContentDocumentLink', { bulk: true })).errorCode).toBe(
      'MALFORMED_QUERY',
    );
  });
});

describe('production catalog: Salesforce wording of filter restrictions', () => {
  it('quotes the texts Salesforce answers for Vote, ContentFolderMember and UserEntityAccess', () => {
    const org = productionOrg();
    expect(refusal(() => org.query('SELECT Id FROM Vote')).message).toBe(
      "Implementation restriction: When querying the Vote object, you must filter using the following syntax: ParentId = [single ID], Parent.Type = [single Type], Id = [single ID], or Id IN [list of ID's].",
    );
    expect(refusal(() => org.query('SELECT Id FROM ContentFolderMember')).message).toBe(
      'Implementation restriction: ContentFolderMember requires a filter by a single Id, ChildRecordId or ParentContentFolderId using the equals operator',
    );
    expect(refusal(() => org.query('SELECT Id FROM UserEntityAccess'))).toMatchObject({
      errorCode: 'MALFORMED_QUERY',
      message: 'UserEntityAccess: a filter on a reified column is required [UserId,DurableId]',
    });
    expect(org.query(`SELECT Id FROM UserEntityAccess WHERE UserId = '${org.user.id}'`).totalSize()).toBe(0);
  });
});
