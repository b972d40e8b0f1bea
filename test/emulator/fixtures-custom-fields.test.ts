import { describe, expect, it } from 'vitest';
import { customField, defaultFrom } from '../../emulator/fixtures/custom-fields.ts';

const NOW = new Date('2024-06-01T12:00:00Z');
const convert = (node: Record<string, unknown>) => customField('Thing__c', node, new Map(), NOW);

describe('custom field metadata', () => {
  it('maps each metadata type to the describe type Salesforce reports', () => {
    const types = {
      Text: 'string',
      TextArea: 'textarea',
      LongTextArea: 'textarea',
      Html: 'textarea',
      EncryptedText: 'encryptedstring',
      Number: 'double',
      Currency: 'currency',
      Percent: 'percent',
      Checkbox: 'boolean',
      Date: 'date',
      DateTime: 'datetime',
      Time: 'time',
      Email: 'email',
      Phone: 'phone',
      Url: 'url',
      Picklist: 'picklist',
      MultiselectPicklist: 'multipicklist',
    };
    for (const [xmlType, type] of Object.entries(types)) {
      expect(convert({ fullName: 'F__c', type: xmlType })[0]?.type, xmlType).toBe(type);
    }
  });

  it('keeps lengths, precision, scale, required and external id flags', () => {
    const [text] = convert({
      fullName: 'Code__c',
      type: 'Text',
      length: '12',
      required: 'true',
      externalId: 'true',
      unique: 'true',
    });
    expect(text).toMatchObject({
      length: 12,
      nillable: false,
      required: true,
      externalId: true,
      unique: true,
      idLookup: true,
    });
    const [money] = convert({ fullName: 'Price__c', type: 'Currency', precision: '10', scale: '2' });
    expect(money).toMatchObject({ precision: 10, scale: 2 });
    const [long] = convert({ fullName: 'Body__c', type: 'LongTextArea', length: '131072' });
    expect(long).toMatchObject({ length: 131072, filterable: false });
  });

  it('turns checkbox and picklist defaults and simple default formulas into default values', () => {
    expect(convert({ fullName: 'On__c', type: 'Checkbox', defaultValue: 'true' })[0]).toMatchObject({
      defaultValue: true,
      nillable: false,
    });
    const [pick] = convert({
      fullName: 'Stage__c',
      type: 'Picklist',
      valueSet: {
        restricted: 'true',
        valueSetDefinition: {
          value: [
            { fullName: 'A', default: 'false' },
            { fullName: 'B', default: 'true' },
          ],
        },
      },
    });
    expect(pick).toMatchObject({ restrictedPicklist: true, defaultValue: 'B' });
    expect(pick?.picklistValues.map((v) => v.value)).toEqual(['A', 'B']);
    expect(defaultFrom('TODAY() + 3', 'date', NOW)).toBe('2024-06-04');
    expect(defaultFrom('"hello"', 'string', NOW)).toBe('hello');
    expect(defaultFrom('42', 'double', NOW)).toBe(42);
    expect(defaultFrom('$User.Email', 'string', NOW)).toBeNull();
  });

  it('reads picklist values from a global value set', () => {
    const globals = new Map([
      [
        'Colours',
        { values: [{ value: 'Red', label: 'Red', active: true, defaultValue: false }], restricted: true },
      ],
    ]);
    const [f] = customField(
      'Thing__c',
      { fullName: 'Colour__c', type: 'Picklist', valueSet: { valueSetName: 'Colours' } },
      globals,
      NOW,
    );
    expect(f).toMatchObject({
      restrictedPicklist: true,
      picklistValues: [expect.objectContaining({ value: 'Red' })],
    });
  });

  it('makes formulas, roll-ups and auto-numbers read-only', () => {
    expect(convert({ fullName: 'Total__c', type: 'Number', formula: 'A__c + B__c' })[0]).toMatchObject({
      calculated: true,
      calculatedFormula: 'A__c + B__c',
      createable: false,
      updateable: false,
    });
    expect(convert({ fullName: 'Sum__c', type: 'Summary' })[0]).toMatchObject({
      calculated: true,
      type: 'double',
    });
    expect(convert({ fullName: 'Num__c', type: 'AutoNumber', displayFormat: 'N-{000}' })[0]).toMatchObject({
      autoNumber: true,
      displayFormat: 'N-{000}',
      createable: false,
    });
  });

  it('models lookups, master-detail and hierarchy relationships with their relationship names', () => {
    const [lookup] = convert({
      fullName: 'Owner2__c',
      type: 'Lookup',
      referenceTo: 'Account',
      relationshipName: 'Things',
      deleteConstraint: 'SetNull',
    });
    expect(lookup).toMatchObject({
      referenceTo: ['Account'],
      relationshipName: 'Owner2__r',
      childRelationshipName: 'Things__r',
      cascadeDelete: false,
      nillable: true,
    });
    const [master] = convert({
      fullName: 'Parent__c',
      type: 'MasterDetail',
      referenceTo: 'Order__c',
      relationshipOrder: '1',
    });
    expect(master).toMatchObject({
      cascadeDelete: true,
      nillable: false,
      relationshipOrder: 1,
      updateable: false,
    });
    expect(convert({ fullName: 'Boss__c', type: 'Hierarchy' })[0]?.referenceTo).toEqual(['User']);
  });

  it('splits a geolocation into its compound field and latitude/longitude components', () => {
    const fields = convert({ fullName: 'Where__c', type: 'Location', scale: '5' });
    expect(fields.map((f) => [f.name, f.type, f.compoundFieldName])).toEqual([
      ['Where__Latitude__s', 'double', 'Where__c'],
      ['Where__Longitude__s', 'double', 'Where__c'],
      ['Where__c', 'location', null],
    ]);
    expect(fields[0]?.scale).toBe(5);
  });

  it('names the field file problem when a field has no fullName', () => {
    expect(() => convert({ type: 'Text' })).toThrow(/A field of Thing__c has no <fullName>/);
  });
});
