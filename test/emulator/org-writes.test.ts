import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SalesforceError } from '../../emulator/org/api.ts';
import { createOrg } from '../../emulator/org/org.ts';

const T0 = new Date('2024-03-01T10:00:00.000Z');

function fixedOrg(options: { setAuditFieldsOnCreate?: boolean } = {}) {
  let now = T0;
  const org = createOrg({ now: () => now, ...options });
  return { org, setNow: (d: Date) => (now = d) };
}

function errorOf(fn: () => unknown): SalesforceError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SalesforceError) return error;
    throw error;
  }
  throw new Error('expected a SalesforceError');
}

describe('org writes', () => {
  it('stamps audit fields and the owner on insert and keeps them current on update', () => {
    const { org, setNow } = fixedOrg();
    const id = org.insert('Account', { Name: 'Acme' });
    const created = org.retrieve('Account', id);
    expect(created).toMatchObject({
      Name: 'Acme',
      IsDeleted: false,
      OwnerId: org.user.id,
      CreatedById: org.user.id,
      CreatedDate: '2024-03-01T10:00:00.000+0000',
      LastModifiedDate: '2024-03-01T10:00:00.000+0000',
      SystemModstamp: '2024-03-01T10:00:00.000+0000',
    });
    setNow(new Date('2024-03-02T08:30:00.000Z'));
    org.update('Account', id, { Phone: '555' });
    expect(org.retrieve('Account', id)).toMatchObject({
      Phone: '555',
      CreatedDate: '2024-03-01T10:00:00.000+0000',
      LastModifiedDate: '2024-03-02T08:30:00.000+0000',
      SystemModstamp: '2024-03-02T08:30:00.000+0000',
    });
    expect(org.counters).toMatchObject({ inserted: 1, updated: 1 });
  });

  it('lists every missing required field in REQUIRED_FIELD_MISSING', () => {
    const { org } = fixedOrg();
    const e = errorOf(() => org.insert('Opportunity', { Amount: 5 }));
    expect(e.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect(e.message).toBe('Required fields are missing: [Name, StageName, CloseDate]');
    expect(e.fields).toEqual(['Name', 'StageName', 'CloseDate']);
  });

  it('refuses values of the wrong type, too long, or a bad email with Salesforce codes', () => {
    const { org } = fixedOrg();
    expect(errorOf(() => org.insert('Account', { Name: 'A', NumberOfEmployees: 'many' })).errorCode).toBe(
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
    );
    expect(errorOf(() => org.insert('Account', { Name: 'x'.repeat(256) })).errorCode).toBe('STRING_TOO_LONG');
    expect(errorOf(() => org.insert('Contact', { LastName: 'D', Email: 'not-an-email' })).errorCode).toBe(
      'INVALID_EMAIL_ADDRESS',
    );
    expect(errorOf(() => org.insert('Contact', { LastName: 'D', Birthdate: '2024-02-30' })).errorCode).toBe(
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
    );
    expect(errorOf(() => org.insert('Account', { Name: 'A', Bogus__c: 1 })).errorCode).toBe('INVALID_FIELD');
    expect(errorOf(() => org.insert('Contact', { LastName: 'D', Birthdate: '2023-02-29' })).errorCode).toBe(
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
    );
    expect(org.insert('Contact', { LastName: 'D', Birthdate: '2024-02-29' })).toHaveLength(18);
    expect(
      errorOf(() => org.insert('Contact', { LastName: 'D', EmailBouncedDate: '1600-01-01T00:00:00Z' }))
        .errorCode,
    ).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
  });

  it('parses text values by field type, as Bulk CSV sends them', () => {
    const { org } = fixedOrg();
    const id = org.insert('Opportunity', {
      Name: 'Deal',
      StageName: 'Prospecting',
      CloseDate: '2024-06-30',
      Amount: '1234.567',
      IsPrivate: 'true',
    });
    expect(org.retrieve('Opportunity', id, ['Amount', 'IsPrivate', 'CloseDate', 'IsClosed'])).toMatchObject({
      Amount: 1234.57,
      IsPrivate: true,
      CloseDate: '2024-06-30',
      IsClosed: false,
    });
  });

  it('refuses read-only fields and audit fields unless the org allows setting audit fields on create', () => {
    const { org } = fixedOrg();
    const e = errorOf(() => org.insert('Account', { Name: 'A', CreatedDate: '2020-01-01T00:00:00Z' }));
    expect(e.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(e.fields).toEqual(['CreatedDate']);
    expect(errorOf(() => org.insert('Contact', { LastName: 'D', Name: 'Full' })).errorCode).toBe(
      'INVALID_FIELD_FOR_INSERT_UPDATE',
    );
    const { org: auditOrg } = fixedOrg({ setAuditFieldsOnCreate: true });
    const id = auditOrg.insert('Account', { Name: 'Old', CreatedDate: '2020-01-01T00:00:00.000+0000' });
    expect(auditOrg.retrieve('Account', id)).toMatchObject({
      CreatedDate: '2020-01-01T00:00:00.000+0000',
      LastModifiedDate: '2020-01-01T00:00:00.000+0000',
      SystemModstamp: '2024-03-01T10:00:00.000+0000',
    });
    expect(
      errorOf(() => auditOrg.update('Account', id, { CreatedDate: '2021-01-01T00:00:00Z' })).errorCode,
    ).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
  });

  it('checks references for malformed, wrong-type, missing and deleted targets', () => {
    const { org } = fixedOrg();
    const account = org.insert('Account', { Name: 'A' });
    const contact = org.insert('Contact', { LastName: 'C' });
    expect(errorOf(() => org.insert('Contact', { LastName: 'x', AccountId: 'abc' })).errorCode).toBe(
      'MALFORMED_ID',
    );
    expect(errorOf(() => org.insert('Contact', { LastName: 'x', AccountId: contact })).errorCode).toBe(
      'FIELD_INTEGRITY_EXCEPTION',
    );
    expect(
      errorOf(() => org.insert('Contact', { LastName: 'x', AccountId: '001000000000001' })).errorCode,
    ).toBe('INVALID_CROSS_REFERENCE_KEY');
    org.delete([account]);
    expect(errorOf(() => org.insert('Contact', { LastName: 'x', AccountId: account })).errorCode).toBe(
      'ENTITY_IS_DELETED',
    );
  });

  it('accepts polymorphic lookups to any of their targets', () => {
    const { org } = fixedOrg();
    const lead = org.insert('Lead', { LastName: 'L', Company: 'Co' });
    const opp = org.insert('Opportunity', { Name: 'O', StageName: 'Prospecting', CloseDate: '2024-01-01' });
    const task = org.insert('Task', { Subject: 'Call', WhoId: lead, WhatId: opp });
    expect(org.retrieve('Task', task)).toMatchObject({ WhoId: lead, WhatId: opp, Status: 'Not Started' });
  });

  it('refuses values outside a restricted picklist', () => {
    const { org } = fixedOrg();
    const e = errorOf(() => org.insert('Group', { Name: 'G', Type: 'Nonsense' }));
    expect(e.errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect(e.message).toContain('Nonsense');
  });

  it('upserts by external id: inserts, then updates the single match, and refuses unknown fields', () => {
    const { org } = fixedOrg();
    org.defineFields('Account', [
      {
        ...org.describe('Account').fields.find((f) => f.name === 'AccountNumber')!,
        name: 'Ext__c',
        label: 'Ext',
        custom: true,
        externalId: true,
        idLookup: true,
      },
    ]);
    const first = org.upsert('Account', 'Ext__c', 'E-1', { Name: 'One' });
    expect(first.created).toBe(true);
    const second = org.upsert('Account', 'Ext__c', 'e-1', { Name: 'Uno' });
    expect(second).toEqual({ id: first.id, created: false });
    expect(org.retrieve('Account', first.id)).toMatchObject({ Name: 'Uno', Ext__c: 'E-1' });
    expect(errorOf(() => org.upsert('Account', 'Name', 'x', {})).errorCode).toBe('INVALID_FIELD');
    expect(errorOf(() => org.upsert('Account', 'Nope__c', 'x', {})).statusCode).toBe(404);
    const child = org.insert('Contact', { LastName: 'C', Account: { Ext__c: 'E-1' } });
    expect(org.retrieve('Contact', child).AccountId).toBe(first.id);
    const viaPath = org.insert('Contact', { LastName: 'D', 'Account.Ext__c': 'E-1' });
    expect(org.retrieve('Contact', viaPath).AccountId).toBe(first.id);
  });

  it('refuses inserting objects that are not createable and updating deleted rows', () => {
    const { org } = fixedOrg();
    expect(errorOf(() => org.insert('ContentDocument', { Title: 'x' })).errorCode).toBe(
      'CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY',
    );
    const id = org.insert('Account', { Name: 'A' });
    org.delete([id]);
    expect(errorOf(() => org.update('Account', id, { Name: 'B' })).errorCode).toBe('ENTITY_IS_DELETED');
    expect(errorOf(() => org.retrieve('Account', id)).errorCode).toBe('ENTITY_IS_DELETED');
  });

  it('keeps a file as ContentVersion + ContentDocument + link, with size, type and MD5 checksum', () => {
    const { org } = fixedOrg();
    const account = org.insert('Account', { Name: 'A' });
    const bytes = Buffer.from('hello, "world"\n');
    const v1 = org.insert('ContentVersion', {
      Title: 'Greeting',
      PathOnClient: 'greeting.csv',
      VersionData: bytes.toString('base64'),
      FirstPublishLocationId: account,
    });
    const version = org.retrieve('ContentVersion', v1);
    expect(version).toMatchObject({
      ContentSize: bytes.length,
      FileExtension: 'csv',
      FileType: 'CSV',
      Checksum: createHash('md5').update(bytes).digest('hex'),
      VersionNumber: '1',
      IsLatest: true,
    });
    expect(Buffer.from(org.getBlob('ContentVersion', v1, 'VersionData')).toString()).toBe(bytes.toString());
    const docId = version.ContentDocumentId as string;
    expect(org.retrieve('ContentDocument', docId)).toMatchObject({
      Title: 'Greeting',
      LatestPublishedVersionId: v1,
    });
    const links = [
      ...org
        .query(`SELECT LinkedEntityId FROM ContentDocumentLink WHERE ContentDocumentId = '${docId}'`)
        .records(),
    ];
    // The owner's link and the first publish location's.
    expect(links.map((l) => l.LinkedEntityId).sort()).toEqual([account, org.user.id].sort());
    const v2 = org.insert('ContentVersion', {
      ContentDocumentId: docId,
      Title: 'Greeting',
      PathOnClient: 'greeting.csv',
      VersionData: Buffer.from('v2').toString('base64'),
    });
    expect(org.retrieve('ContentVersion', v2)).toMatchObject({ VersionNumber: '2', IsLatest: true });
    expect(org.retrieve('ContentVersion', v1).IsLatest).toBe(false);
    expect(org.retrieve('ContentDocument', docId).LatestPublishedVersionId).toBe(v2);
  });

  it('fills Attachment.BodyLength and Case auto-numbers', () => {
    const { org } = fixedOrg();
    const account = org.insert('Account', { Name: 'A' });
    const att = org.insert('Attachment', { ParentId: account, Name: 'a.bin', Body: Buffer.from([1, 2, 3]) });
    expect(org.retrieve('Attachment', att).BodyLength).toBe(3);
    const c1 = org.insert('Case', { Subject: 'one' });
    const c2 = org.insert('Case', { Subject: 'two' });
    expect([org.retrieve('Case', c1).CaseNumber, org.retrieve('Case', c2).CaseNumber]).toEqual([
      '00000001',
      '00000002',
    ]);
  });
});
