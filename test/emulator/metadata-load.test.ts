import { afterAll, describe, expect, it } from 'vitest';
import { createMetadataService, InvalidProjectError } from '../../emulator/metadata/index.ts';
import {
  DREAMHOUSE,
  EBIKES,
  removeProjects,
  retrieve,
  unpackaged,
  writeProject,
} from './metadata-support.ts';

const META = 'xmlns="http://soap.sforce.com/2006/04/metadata"';

describe('loading sfdx projects', () => {
  afterAll(removeProjects);

  it('loads the dreamhouse sample org with every component of its source', () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const names = service.components().map((c) => `${c.type}:${c.fullName}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'CustomObject:Broker__c',
        'CustomObject:Property__c',
        'CustomApplication:Dreamhouse',
        'Flow:Create_property',
        'PermissionSet:dreamhouse',
      ]),
    );
    expect(names.filter((n) => n.startsWith('CustomTab:'))).toHaveLength(5);
    expect(names.filter((n) => n.startsWith('FlexiPage:'))).toHaveLength(5);
    expect(service.list('CustomField').map((f) => f.fullName)).toHaveLength(32);
    expect(service.loadReport()).toEqual({ unmapped: [], generic: [] });
  });

  it('loads the ebikes sample org and reports the files that are not metadata', () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const objects = service.components().filter((c) => c.type === 'CustomObject');
    expect(objects.map((o) => o.fullName)).toEqual([
      'Case',
      'Manufacturing_Event__e',
      'Order_Item__c',
      'Order__c',
      'Product_Family__c',
      'Product__c',
    ]);
    expect(service.list('ListView').map((l) => l.fullName)).toContain('Case.My_Cases');
    expect(service.loadReport().unmapped.map((u) => u.path)).toEqual([
      'force-app/main/default/flexipages/__utam__/productExplorerPage.utam.json',
      'force-app/main/default/flexipages/__utam__/threeRegionsTemplate.utam.json',
    ]);
  });

  it('merges a decomposed custom object back into one Metadata API file with its children sorted', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { files } = await retrieve(service, unpackaged({ CustomObject: ['Broker__c'] }));
    const object = files['objects/Broker__c.object'] ?? '';
    expect(object).toContain(`<CustomObject ${META}>`);
    expect(object).toContain('<label>Broker</label>');
    expect(object).toContain('<compactLayouts>');
    expect(object).toContain('<listViews>');
    const fieldNames = [...object.matchAll(/<fields>\s*<fullName>([^<]+)<\/fullName>/g)].map((m) => m[1]);
    expect(fieldNames).toEqual([...fieldNames].sort());
    expect(fieldNames).toContain('Email__c');
    // Salesforce writes the object's elements in alphabetical order of their tags.
    expect(object.indexOf('<actionOverrides>')).toBeLessThan(object.indexOf('<compactLayouts>'));
    expect(object.indexOf('<fields>')).toBeLessThan(object.indexOf('<label>Broker</label>'));
  });

  it('maps classes, triggers, bundles, static resources, folders and unknown folders to Metadata API format', async () => {
    const dir = writeProject({
      'force-app/main/default/classes/Hello.cls': 'public class Hello {}',
      'force-app/main/default/classes/Hello.cls-meta.xml': `<ApexClass ${META}><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`,
      'force-app/main/default/triggers/OnCase.trigger': 'trigger OnCase on Case (before insert) {}',
      'force-app/main/default/triggers/OnCase.trigger-meta.xml': `<ApexTrigger ${META}><apiVersion>64.0</apiVersion></ApexTrigger>`,
      'force-app/main/default/lwc/hello/hello.js': 'export default class Hello {}',
      'force-app/main/default/lwc/hello/hello.js-meta.xml': `<LightningComponentBundle ${META}><apiVersion>64.0</apiVersion></LightningComponentBundle>`,
      'force-app/main/default/lwc/hello/__tests__/hello.test.js': 'test code never deployed',
      'force-app/main/default/lwc/jsconfig.json': '{}',
      'force-app/main/default/staticresources/logo.resource-meta.xml': `<StaticResource ${META}><contentType>image/png</contentType></StaticResource>`,
      'force-app/main/default/staticresources/logo.png': 'PNG',
      'force-app/main/default/reports/Sales.reportFolder-meta.xml': `<ReportFolder ${META}><name>Sales</name></ReportFolder>`,
      'force-app/main/default/reports/Sales/Pipeline.report-meta.xml': `<Report ${META}><name>Pipeline</name></Report>`,
      'force-app/main/default/customMetadata/Setting.Default.md-meta.xml': `<CustomMetadata ${META}><label>Default</label></CustomMetadata>`,
      'force-app/main/default/widgets/Spinner.widget-meta.xml': `<Widget ${META}><label>Spinner</label></Widget>`,
    });
    const service = createMetadataService({ projectDirs: [dir] });
    expect(service.loadReport().generic).toEqual([
      { directory: 'force-app/main/default/widgets', xmlName: 'Widget' },
    ]);
    expect(service.loadReport().unmapped).toEqual([]);
    const { files } = await retrieve(
      service,
      unpackaged({
        ApexClass: ['*'],
        ApexTrigger: ['*'],
        LightningComponentBundle: ['*'],
        StaticResource: ['*'],
        ReportFolder: ['Sales'],
        Report: ['Sales/Pipeline'],
        CustomMetadata: ['*'],
        Widget: ['*'],
      }),
    );
    expect(Object.keys(files).sort()).toEqual([
      'classes/Hello.cls',
      'classes/Hello.cls-meta.xml',
      'customMetadata/Setting.Default.md',
      'lwc/hello/hello.js',
      'lwc/hello/hello.js-meta.xml',
      'package.xml',
      'reports/Sales-meta.xml',
      'reports/Sales/Pipeline.report',
      'staticresources/logo.resource',
      'staticresources/logo.resource-meta.xml',
      'triggers/OnCase.trigger',
      'triggers/OnCase.trigger-meta.xml',
      'widgets/Spinner.widget',
    ]);
    expect(files['staticresources/logo.resource']).toBe('PNG');
  });

  it('reports a class meta file without its class and a static resource without content, loading the rest', () => {
    const dir = writeProject({
      'force-app/main/default/classes/Orphan.cls-meta.xml': `<ApexClass ${META}><apiVersion>64.0</apiVersion></ApexClass>`,
      'force-app/main/default/classes/Kept.cls': 'public class Kept {}',
      'force-app/main/default/classes/Kept.cls-meta.xml': `<ApexClass ${META}><apiVersion>64.0</apiVersion></ApexClass>`,
      'force-app/main/default/staticresources/empty.resource-meta.xml': `<StaticResource ${META}/>`,
      'force-app/main/default/notes.txt': 'a stray file',
    });
    const service = createMetadataService({ projectDirs: [dir] });
    expect(service.components().map((c) => `${c.type}:${c.fullName}`)).toEqual(['ApexClass:Kept']);
    expect(service.loadReport().unmapped).toEqual([
      {
        path: 'force-app/main/default/classes/Orphan.cls-meta.xml',
        reason: 'ApexClass meta file without its content file Orphan.cls',
      },
      { path: 'force-app/main/default/notes.txt', reason: 'file outside any metadata type folder' },
      {
        path: 'force-app/main/default/staticresources/empty.resource-meta.xml',
        reason: 'static resource without content',
      },
    ]);
  });

  it('refuses a folder without sfdx-project.json, saying what to pass instead', () => {
    expect(() => createMetadataService({ projectDirs: ['/tmp'] })).toThrow(InvalidProjectError);
    expect(() => createMetadataService({ projectDirs: ['/tmp'] })).toThrow(/sfdx-project.json/);
  });
});
