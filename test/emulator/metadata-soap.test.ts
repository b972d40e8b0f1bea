import { afterAll, describe, expect, it } from 'vitest';
import { createMetadataService } from '../../emulator/metadata/index.ts';
import {
  call,
  callOne,
  DREAMHOUSE,
  EBIKES,
  envelope,
  parseAnswer,
  retrieve,
  SESSION,
  unpackaged,
  removeProjects,
  writeProject,
} from './metadata-support.ts';

const fixedClock = () => new Date('2026-01-02T03:04:05.000Z');

describe('Metadata API SOAP operations', () => {
  afterAll(removeProjects);

  it('describes the metadata types with directories, suffixes, folders and child types', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const result = await callOne(service, 'describeMetadata', '<asOfVersion>64.0</asOfVersion>');
    const objects = result.metadataObjects as Array<Record<string, unknown>>;
    const byName = new Map(objects.map((o) => [o.xmlName, o]));
    expect(byName.get('CustomObject')).toMatchObject({
      directoryName: 'objects',
      suffix: 'object',
      inFolder: 'false',
      metaFile: 'false',
    });
    expect(byName.get('CustomObject')?.childXmlNames).toEqual(
      expect.arrayContaining(['CustomField', 'ListView', 'RecordType']),
    );
    expect(byName.get('ApexClass')).toMatchObject({
      directoryName: 'classes',
      suffix: 'cls',
      metaFile: 'true',
    });
    expect(byName.get('LightningComponentBundle')).toMatchObject({ directoryName: 'lwc', metaFile: 'false' });
    expect(byName.get('LightningComponentBundle')?.suffix).toBeUndefined();
    expect(byName.get('Report')).toMatchObject({ directoryName: 'reports', inFolder: 'true' });
    expect(byName.has('ReportFolder')).toBe(false);
    expect(result).toMatchObject({
      organizationNamespace: '',
      partialSaveAllowed: 'true',
      testRequired: 'false',
    });
  });

  it('lists components and child components with their file properties', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES], clock: fixedClock });
    const results = await call(
      service,
      'listMetadata',
      '<queries><type>CustomField</type></queries><queries><type>Layout</type></queries><queries><type>CustomObject</type></queries><asOfVersion>64.0</asOfVersion>',
    );
    const field = results.find((r) => r.fullName === 'Product__c.MSRP__c');
    expect(field).toMatchObject({
      type: 'CustomField',
      fileName: 'objects/Product__c.object',
      createdDate: '2026-01-02T03:04:05.000Z',
      lastModifiedDate: '2026-01-02T03:04:05.000Z',
      manageableState: 'unmanaged',
    });
    expect(String(field?.id)).toMatch(/^00N[0-9A-Za-z]{15}$/);
    expect(results.filter((r) => r.type === 'Layout')).toHaveLength(6);
    const standardCase = results.find((r) => r.type === 'CustomObject' && r.fullName === 'Case');
    expect(standardCase).toMatchObject({ fileName: 'objects/Case.object', id: '' });
    expect(String(results.find((r) => r.fullName === 'Product__c' && r.type === 'CustomObject')?.id)).toMatch(
      /^01I/,
    );
  });

  it('answers an empty list for a type with no components', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const answer = await service.handle(
      envelope('listMetadata', '<queries><type>ApexClass</type></queries>'),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<listMetadataResponse></listMetadataResponse>');
  });

  it('refuses more than three list queries in one call', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const four = ['ApexClass', 'Layout', 'CustomTab', 'Flow']
      .map((t) => `<queries><type>${t}</type></queries>`)
      .join('');
    const answer = await service.handle(envelope('listMetadata', four));
    expect(answer.status).toBe(500);
    expect(parseAnswer(answer.body).fault).toMatchObject({ faultcode: 'sf:LIMIT_EXCEEDED' });
  });

  it('refuses an unknown type with INVALID_TYPE', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const answer = await service.handle(
      envelope('listMetadata', '<queries><type>NoSuchType</type></queries>'),
    );
    expect(answer.status).toBe(500);
    expect(parseAnswer(answer.body).fault).toMatchObject({
      faultcode: 'sf:INVALID_TYPE',
      faultstring: 'INVALID_TYPE: Unknown type:NoSuchType',
    });
  });

  it('answers INVALID_SESSION_ID as a SOAP fault when the session check fails', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const answer = await service.handle(envelope('describeMetadata', '', 'expired'), {
      checkSession: (id) => id === SESSION,
    });
    expect(answer.status).toBe(500);
    // jsforce recognises an expired session by exactly this fault code pattern.
    expect(answer.body).toMatch(/<faultcode>[a-zA-Z]+:INVALID_SESSION_ID<\/faultcode>/);
    expect(parseAnswer(answer.body).fault?.faultstring).toBe(
      'INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session',
    );
  });

  it('answers a client fault for a body that is not a SOAP envelope', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const answer = await service.handle('<notSoap/>');
    expect(answer.status).toBe(500);
    expect(parseAnswer(answer.body).fault).toMatchObject({ faultcode: 'soapenv:Client' });
  });

  it('retrieves asynchronously: first in progress, then the zip with package.xml and the selected components', async () => {
    const service = createMetadataService({ projectDirs: [EBIKES] });
    const { first, result, files } = await retrieve(
      service,
      unpackaged({
        CustomObject: ['*'],
        CustomField: ['Case.Product__c'],
        Layout: ['Product__c-Product Layout', 'Missing-Layout'],
      }),
    );
    expect(first).toMatchObject({ done: 'false', status: 'InProgress', success: 'false' });
    expect(result).toMatchObject({ done: 'true', status: 'Succeeded', success: 'true' });
    expect(Object.keys(files).sort()).toEqual([
      'layouts/Product__c-Product Layout.layout',
      'objects/Case.object',
      'objects/Manufacturing_Event__e.object',
      'objects/Order_Item__c.object',
      'objects/Order__c.object',
      'objects/Product_Family__c.object',
      'objects/Product__c.object',
      'package.xml',
    ]);
    // The wildcard leaves out standard objects; the named field brings only itself.
    expect(files['objects/Case.object']).toContain('<fullName>Product__c</fullName>');
    expect(files['objects/Case.object']).not.toContain('Case_Category__c');
    expect(files['objects/Case.object']).not.toContain('<listViews>');
    expect(files['package.xml']).toContain('<members>Missing-Layout</members>');
    expect(result.messages).toEqual([
      { fileName: 'package.xml', problem: "Entity of type 'Layout' named 'Missing-Layout' cannot be found" },
    ]);
    const props = result.fileProperties as Array<Record<string, unknown>>;
    expect(props.find((p) => p.type === 'Package')).toMatchObject({
      fileName: 'package.xml',
      fullName: 'package.xml',
    });
    expect(props.find((p) => p.fullName === 'Case.Product__c')).toMatchObject({
      type: 'CustomField',
      fileName: 'objects/Case.object',
    });
  });

  it('puts an unpackaged retrieve under unpackaged/ unless singlePackage is set', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { files } = await retrieve(
      service,
      '<apiVersion>64.0</apiVersion><unpackaged><types><members>*</members><name>CustomTab</name></types><version>64.0</version></unpackaged>',
    );
    expect(Object.keys(files)).toContain('unpackaged/package.xml');
    expect(Object.keys(files)).toContain('unpackaged/tabs/Broker__c.tab');
  });

  it('retrieves a project package by name into a folder of that name', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result, files } = await retrieve(
      service,
      '<apiVersion>64.0</apiVersion><packageNames>DreamhouseLWC</packageNames>',
    );
    expect(result.status).toBe('Succeeded');
    expect(files['DreamhouseLWC/package.xml']).toContain('<fullName>DreamhouseLWC</fullName>');
    expect(Object.keys(files)).toContain('DreamhouseLWC/objects/Property__c.object');
    expect(Object.keys(files)).toContain('DreamhouseLWC/flows/Create_property.flow');
  });

  it('fails a retrieve of more than 10,000 files with LIMIT_EXCEEDED and allows exactly 10,000', async () => {
    const meta =
      '<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion></ApexClass>';
    const files: Record<string, string> = {};
    // 4,999 classes with their meta files, a layout and package.xml make exactly 10,000 files.
    for (let i = 0; i < 4999; i++) {
      files[`force-app/main/default/classes/C${i}.cls`] = `public class C${i} {}`;
      files[`force-app/main/default/classes/C${i}.cls-meta.xml`] = meta;
    }
    files['force-app/main/default/layouts/A-A.layout-meta.xml'] =
      '<Layout xmlns="http://soap.sforce.com/2006/04/metadata"/>';
    const dir = writeProject(files);
    const service = createMetadataService({ projectDirs: [dir] });
    const atLimit = await retrieve(service, unpackaged({ ApexClass: ['*'], Layout: ['*'] }));
    expect(atLimit.result.status).toBe('Succeeded');
    expect(Object.keys(atLimit.files)).toHaveLength(10_000);

    const overDir = writeProject({
      ...files,
      'force-app/main/default/classes/Extra.cls': 'public class Extra {}',
      'force-app/main/default/classes/Extra.cls-meta.xml': meta,
    });
    const over = await retrieve(
      createMetadataService({ projectDirs: [overDir] }),
      unpackaged({ ApexClass: ['*'], Layout: ['*'] }),
    );
    expect(over.result).toMatchObject({
      done: 'true',
      status: 'Failed',
      success: 'false',
      errorStatusCode: 'LIMIT_EXCEEDED',
      errorMessage: 'LIMIT_EXCEEDED: Too many files in retrieve call, limit is: 10000',
    });
    expect(over.files).toEqual({});
  });

  it('leaves the zip out when checkRetrieveStatus is called with includeZip false', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const started = await callOne(
      service,
      'retrieve',
      `<request>${unpackaged({ CustomTab: ['*'] })}</request>`,
    );
    await callOne(service, 'checkRetrieveStatus', `<asyncProcessId>${started.id}</asyncProcessId>`);
    const done = await callOne(
      service,
      'checkRetrieveStatus',
      `<asyncProcessId>${started.id}</asyncProcessId><includeZip>false</includeZip>`,
    );
    expect(done.status).toBe('Succeeded');
    expect(done.zipFile).toBeUndefined();
    expect((done.fileProperties as unknown[]).length).toBe(6);
  });

  it('answers INVALID_ID_FIELD for a status check of an unknown retrieve', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const answer = await service.handle(
      envelope('checkRetrieveStatus', '<asyncProcessId>09S000000000000AAA</asyncProcessId>'),
    );
    expect(answer.status).toBe(500);
    expect(parseAnswer(answer.body).fault).toMatchObject({ faultcode: 'sf:INVALID_ID_FIELD' });
  });

  it('keeps a class content and meta file together when retrieved by specific file name', async () => {
    const dir = writeProject({
      'force-app/main/default/classes/A.cls': 'public class A {}',
      'force-app/main/default/classes/A.cls-meta.xml':
        '<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion></ApexClass>',
      'force-app/main/default/classes/B.cls': 'public class B {}',
      'force-app/main/default/classes/B.cls-meta.xml':
        '<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>64.0</apiVersion></ApexClass>',
    });
    const service = createMetadataService({ projectDirs: [dir] });
    const { files } = await retrieve(
      service,
      '<apiVersion>64.0</apiVersion><specificFiles>unpackaged/classes/B.cls</specificFiles>',
    );
    expect(Object.keys(files).sort()).toEqual([
      'unpackaged/classes/B.cls',
      'unpackaged/classes/B.cls-meta.xml',
      'unpackaged/package.xml',
    ]);
  });

  it('lists folders and the components in a folder, and retrieves a folder named under its content type', async () => {
    const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
    const dir = writeProject({
      'force-app/main/default/reports/Sales.reportFolder-meta.xml': `<ReportFolder ${NS}><name>Sales</name></ReportFolder>`,
      'force-app/main/default/reports/Sales/Pipeline.report-meta.xml': `<Report ${NS}><name>Pipeline</name></Report>`,
      'force-app/main/default/reports/Ops.reportFolder-meta.xml': `<ReportFolder ${NS}><name>Ops</name></ReportFolder>`,
      'force-app/main/default/reports/Ops/Backlog.report-meta.xml': `<Report ${NS}><name>Backlog</name></Report>`,
    });
    const service = createMetadataService({ projectDirs: [dir] });
    const folders = await call(service, 'listMetadata', '<queries><type>ReportFolder</type></queries>');
    expect(folders.map((f) => f.fullName)).toEqual(['Ops', 'Sales']);
    const inSales = await call(
      service,
      'listMetadata',
      '<queries><type>Report</type><folder>Sales</folder></queries>',
    );
    expect(inSales.map((r) => [r.fullName, r.fileName])).toEqual([
      ['Sales/Pipeline', 'reports/Sales/Pipeline.report'],
    ]);
    const noFolder = await call(service, 'listMetadata', '<queries><type>Report</type></queries>');
    expect(noFolder).toEqual([]);

    const { files } = await retrieve(service, unpackaged({ Report: ['Sales', 'Sales/Pipeline'] }));
    expect(Object.keys(files).sort()).toEqual([
      'package.xml',
      'reports/Sales-meta.xml',
      'reports/Sales/Pipeline.report',
    ]);
  });

  it('answers the deprecated checkStatus: in progress, then completed or in error', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const ok = await callOne(service, 'retrieve', `<request>${unpackaged({ CustomTab: ['*'] })}</request>`);
    const check = `<asyncProcessId>${ok.id}</asyncProcessId>`;
    expect(await callOne(service, 'checkStatus', check)).toMatchObject({
      done: 'false',
      state: 'InProgress',
    });
    expect(await callOne(service, 'checkStatus', check)).toMatchObject({ done: 'true', state: 'Completed' });
    const bad = await callOne(service, 'deploy', '<ZipFile>bm90IGEgemlw</ZipFile>');
    await callOne(service, 'checkStatus', `<asyncProcessId>${bad.id}</asyncProcessId>`);
    expect(await callOne(service, 'checkStatus', `<asyncProcessId>${bad.id}</asyncProcessId>`)).toMatchObject(
      {
        done: 'true',
        state: 'Error',
      },
    );
  });

  it('lists and retrieves custom labels and workflow rules one by one, as describeMetadata advertises them', async () => {
    const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
    const label = (name: string, value: string) =>
      `<labels><fullName>${name}</fullName><language>en_US</language><protected>false</protected><shortDescription>${name}</shortDescription><value>${value}</value></labels>`;
    const dir = writeProject({
      'force-app/main/default/labels/CustomLabels.labels-meta.xml': `<CustomLabels ${NS}>${label('Greeting', 'Hello')}${label('Farewell', 'Bye')}</CustomLabels>`,
      'force-app/main/default/workflows/Case.workflow-meta.xml': `<Workflow ${NS}><rules><fullName>Escalate</fullName><active>true</active></rules><tasks><fullName>Call_back</fullName><subject>Call</subject></tasks></Workflow>`,
    });
    const service = createMetadataService({ projectDirs: [dir] });
    const described = await callOne(service, 'describeMetadata', '');
    const labels = (described.metadataObjects as Array<Record<string, unknown>>).find(
      (o) => o.xmlName === 'CustomLabels',
    );
    expect(labels?.childXmlNames).toEqual(['CustomLabel']);

    const listed = await call(
      service,
      'listMetadata',
      '<queries><type>CustomLabel</type></queries><queries><type>WorkflowRule</type></queries>',
    );
    expect(listed.map((l) => [l.type, l.fullName, l.fileName])).toEqual([
      ['CustomLabel', 'Farewell', 'labels/CustomLabels.labels'],
      ['CustomLabel', 'Greeting', 'labels/CustomLabels.labels'],
      ['WorkflowRule', 'Case.Escalate', 'workflows/Case.workflow'],
    ]);

    const { files } = await retrieve(
      service,
      unpackaged({ CustomLabel: ['Greeting'], WorkflowRule: ['Case.Escalate'] }),
    );
    expect(files['labels/CustomLabels.labels']).toContain('<fullName>Greeting</fullName>');
    expect(files['labels/CustomLabels.labels']).not.toContain('Farewell');
    expect(files['workflows/Case.workflow']).toContain('<fullName>Escalate</fullName>');
    expect(files['workflows/Case.workflow']).not.toContain('Call_back');
  });
});
