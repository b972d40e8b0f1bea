import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan, PlanLoadError } from '../../emulator/fixtures/plan.ts';
import { loadProject, ProjectLoadError } from '../../emulator/fixtures/project.ts';
import { createOrg } from '../../emulator/org/org.ts';
import { SAMPLE_ORGS_DIR } from '../../emulator/fixtures/samples.ts';

const SAMPLES = SAMPLE_ORGS_DIR;

type Rec = { attributes: { type: string; referenceId: string }; [k: string]: unknown };

/** Every record of a plan as written in its files, with the plan entry's object. */
function planRecords(sample: string): Array<{ sobject: string; rec: Rec }> {
  const dir = join(SAMPLES, sample, 'data');
  const plan = JSON.parse(readFileSync(join(dir, 'sample-data-plan.json'), 'utf8')) as Array<{
    sobject: string;
    files: string[];
  }>;
  return plan.flatMap((entry) =>
    entry.files.flatMap((f) =>
      (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { records: Rec[] }).records.map((rec) => ({
        sobject: entry.sobject,
        rec,
      })),
    ),
  );
}

function loadSample(sample: string) {
  const org = createOrg({ now: () => new Date('2024-06-01T00:00:00Z') });
  const project = loadProject(org, join(SAMPLES, sample));
  const plan = loadPlan(org, join(SAMPLES, sample, 'data', 'sample-data-plan.json'));
  return { org, project, plan };
}

describe.each(['dreamhouse-lwc', 'ebikes-lwc'])('sample org %s', (sample) => {
  it('loads every plan record, unchanged, with @ref lookups resolved to the referenced record', () => {
    const { org, plan } = loadSample(sample);
    const expected = planRecords(sample);
    expect(plan.records).toHaveLength(expected.length);
    for (const { sobject, rec } of expected) {
      const id = plan.refs.get(rec.attributes.referenceId);
      expect(id, rec.attributes.referenceId).toBeDefined();
      const stored = org.retrieve(sobject, id!);
      for (const [field, value] of Object.entries(rec)) {
        if (field === 'attributes') continue;
        const ref = typeof value === 'string' ? /^@(.+)$/.exec(value) : null;
        if (ref) {
          expect(stored[field], `${rec.attributes.referenceId}.${field}`).toBe(plan.refs.get(ref[1]!));
          const target = org.objectForId(stored[field] as string);
          expect(target).toBeDefined();
        } else {
          expect(stored[field], `${rec.attributes.referenceId}.${field}`).toEqual(value);
        }
      }
    }
  });

  it('defines the project custom objects with their fields and relationships', () => {
    const { org, project } = loadSample(sample);
    expect(project.objects.length).toBeGreaterThan(1);
    for (const name of project.objects) {
      const def = org.describe(name);
      expect(def.custom).toBe(true);
      expect(def.keyPrefix).toMatch(/^a[0-9A-Za-z]{2}$/);
      expect(def.fields.map((f) => f.name)).toEqual(
        expect.arrayContaining(['Id', 'Name', 'CreatedDate', 'SystemModstamp']),
      );
    }
  });
});

describe('project details', () => {
  it('models dreamhouse field types: geolocation compound, restricted picklist, formula, lookup', () => {
    const { org } = loadSample('dreamhouse-lwc');
    const fields = new Map(org.describe('Property__c').fields.map((f) => [f.name, f]));
    expect(fields.get('Location__c')).toMatchObject({ type: 'location', createable: false });
    expect(fields.get('Location__Latitude__s')).toMatchObject({
      type: 'double',
      compoundFieldName: 'Location__c',
    });
    expect(fields.get('Status__c')).toMatchObject({ type: 'picklist', restrictedPicklist: true });
    expect(fields.get('Days_On_Market__c')).toMatchObject({ calculated: true, createable: false });
    expect(fields.get('Broker__c')).toMatchObject({
      type: 'reference',
      referenceTo: ['Broker__c'],
      relationshipName: 'Broker__r',
    });
    expect(org.describe('Broker__c').childRelationships).toContainEqual({
      childSObject: 'Property__c',
      field: 'Broker__c',
      relationshipName: 'Properties__r',
      cascadeDelete: false,
    });
    expect(fields.get('Date_Listed__c')?.defaultValue).toBe('2024-05-22');
    const rows = [
      ...org
        .query(
          "SELECT Name, Broker__r.Name, Location__c FROM Property__c WHERE Status__c = 'Available' LIMIT 1",
        )
        .records(),
    ];
    expect(rows[0]?.Broker__r).toMatchObject({ Name: expect.any(String) });
    expect(rows[0]?.Location__c).toMatchObject({
      latitude: expect.any(Number),
      longitude: expect.any(Number),
    });
  });

  it('models ebikes master-detail, auto-number names, platform events and fields on Case', () => {
    const { org } = loadSample('ebikes-lwc');
    const orderItem = org.describe('Order_Item__c');
    expect(orderItem.fields.find((f) => f.name === 'Order__c')).toMatchObject({
      cascadeDelete: true,
      nillable: false,
    });
    expect(orderItem.fields.some((f) => f.name === 'OwnerId')).toBe(false);
    expect(org.describe('Order__c').fields.find((f) => f.name === 'Name')).toMatchObject({
      autoNumber: true,
    });
    expect(org.describe('Manufacturing_Event__e').queryable).toBe(false);
    expect(org.describe('Case').fields.map((f) => f.name)).toContain('Product__c');
    const account = org.insert('Account', { Name: 'Shop' });
    const order = org.insert('Order__c', { Account__c: account });
    const product = org.query('SELECT Id FROM Product__c LIMIT 1').records().next().value?.Id as string;
    const item = org.insert('Order_Item__c', { Order__c: order, Product__c: product, Qty_S__c: 1 });
    expect(org.retrieve('Order__c', order).Name).toBe('O-00001');
    org.delete([order]);
    expect(org.query(`SELECT Id FROM Order_Item__c WHERE Id = '${item}'`).totalSize()).toBe(0);
  });

  it('refuses a folder that is not an sfdx project, naming the missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'not-a-project-'));
    expect(() => loadProject(createOrg(), dir)).toThrow(ProjectLoadError);
    expect(() => loadProject(createOrg(), dir)).toThrow(/sfdx-project\.json/);
  });

  it('refuses a plan whose @ref names no earlier record, naming the record and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(
      join(dir, 'data', 'plan.json'),
      JSON.stringify([{ sobject: 'Contact', resolveRefs: true, files: ['c.json'] }]),
    );
    writeFileSync(
      join(dir, 'data', 'c.json'),
      JSON.stringify({
        records: [
          { attributes: { type: 'Contact', referenceId: 'C1' }, LastName: 'x', AccountId: '@Missing' },
        ],
      }),
    );
    expect(() => loadPlan(createOrg(), join(dir, 'data', 'plan.json'))).toThrow(PlanLoadError);
    expect(() => loadPlan(createOrg(), join(dir, 'data', 'plan.json'))).toThrow(
      /C1 refers to @Missing in AccountId/,
    );
  });

  it('creates nested child records of a tree after their parent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tree-'));
    writeFileSync(join(dir, 'plan.json'), JSON.stringify([{ sobject: 'Account', files: ['a.json'] }]));
    writeFileSync(
      join(dir, 'a.json'),
      JSON.stringify({
        records: [
          {
            attributes: { type: 'Account', referenceId: 'A1' },
            Name: 'Parent',
            Contacts: { records: [{ attributes: { type: 'Contact', referenceId: 'C1' }, LastName: 'Kid' }] },
          },
        ],
      }),
    );
    const org = createOrg();
    const plan = loadPlan(org, join(dir, 'plan.json'));
    expect(org.retrieve('Contact', plan.refs.get('C1')!).AccountId).toBe(plan.refs.get('A1'));
  });
});
