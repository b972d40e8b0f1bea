import { describe, expect, it } from 'vitest';
import { createMetadataService } from '../../emulator/metadata/index.ts';
import { callOne, DREAMHOUSE, deploy, packageXml, retrieve, unpackaged } from './metadata-support.ts';

const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
const CLASS_META = `<?xml version="1.0" encoding="UTF-8"?><ApexClass ${NS}><apiVersion>64.0</apiVersion><status>Active</status></ApexClass>`;

function newField(name: string, label: string): string {
  return `<fields><fullName>${name}</fullName><label>${label}</label><length>80</length><type>Text</type></fields>`;
}

function objectFile(...elements: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?><CustomObject ${NS}>${elements.join('')}</CustomObject>`;
}

type Messages = Array<Record<string, unknown>>;

function successes(result: Record<string, unknown>): Messages {
  return ((result.details as Record<string, unknown>)?.componentSuccesses as Messages) ?? [];
}

function failures(result: Record<string, unknown>): Messages {
  return ((result.details as Record<string, unknown>)?.componentFailures as Messages) ?? [];
}

async function listNames(service: ReturnType<typeof createMetadataService>, type: string): Promise<string[]> {
  return service.list(type).map((p) => p.fullName);
}

describe('Metadata API deploy', () => {
  it('deploys new and changed components, reports each, and a later retrieve returns them', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { first, result } = await deploy(service, {
      'package.xml': packageXml({
        ApexClass: ['Greeter'],
        CustomField: ['Broker__c.Nickname__c'],
        CustomObject: ['Broker__c'],
      }),
      'classes/Greeter.cls': 'public class Greeter {}',
      'classes/Greeter.cls-meta.xml': CLASS_META,
      'objects/Broker__c.object': objectFile(newField('Nickname__c', 'Nickname')),
    });
    expect(first).toMatchObject({ done: 'false', status: 'InProgress' });
    expect(result).toMatchObject({
      done: 'true',
      status: 'Succeeded',
      success: 'true',
      checkOnly: 'false',
      numberComponentErrors: '0',
    });
    const byName = new Map(successes(result).map((m) => [`${m.componentType}:${m.fullName}`, m]));
    expect(byName.get('ApexClass:Greeter')).toMatchObject({
      created: 'true',
      changed: 'false',
      success: 'true',
      fileName: 'classes/Greeter.cls',
    });
    expect(String(byName.get('ApexClass:Greeter')?.id)).toMatch(/^01p/);
    expect(byName.get('CustomField:Broker__c.Nickname__c')).toMatchObject({
      created: 'true',
      fileName: 'objects/Broker__c.object',
    });
    expect(byName.get(':package.xml')).toMatchObject({ fileName: 'package.xml', success: 'true' });
    expect(result.numberComponentsDeployed).toBe(String(successes(result).length - 1));

    const { files } = await retrieve(service, unpackaged({ ApexClass: ['*'], CustomObject: ['Broker__c'] }));
    expect(files['classes/Greeter.cls']).toBe('public class Greeter {}');
    // The deploy added a field and kept the object's own settings and other fields.
    expect(files['objects/Broker__c.object']).toContain('<fullName>Nickname__c</fullName>');
    expect(files['objects/Broker__c.object']).toContain('<fullName>Email__c</fullName>');
    expect(files['objects/Broker__c.object']).toContain('<label>Broker</label>');
  });

  it('reports components deployed again unchanged as neither created nor changed', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { files } = await retrieve(
      service,
      unpackaged({ CustomTab: ['*'], CustomObject: ['*'], Layout: ['*'], Flow: ['*'] }),
    );
    const { result } = await deploy(service, files);
    expect(result.status).toBe('Succeeded');
    const messages = successes(result).filter((m) => m.fullName !== 'package.xml');
    expect(messages.length).toBeGreaterThan(40);
    expect(messages.filter((m) => m.created === 'true' || m.changed === 'true')).toEqual([]);
  });

  it('changes nothing in a checkOnly deploy, yet reports what it would do', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const before = await retrieve(service, unpackaged({ CustomObject: ['*'], ApexClass: ['*'] }));
    const { result } = await deploy(
      service,
      {
        'package.xml': packageXml({ ApexClass: ['Greeter'], CustomObject: ['Broker__c'] }),
        'classes/Greeter.cls': 'public class Greeter {}',
        'classes/Greeter.cls-meta.xml': CLASS_META,
        'objects/Broker__c.object': objectFile('<label>Renamed</label>', newField('Nickname__c', 'Nickname')),
        'destructiveChanges.xml': packageXml({ CustomTab: ['Broker__c'] }),
      },
      '<checkOnly>true</checkOnly><singlePackage>true</singlePackage>',
    );
    expect(result).toMatchObject({ status: 'Succeeded', success: 'true', checkOnly: 'true' });
    expect(successes(result).find((m) => m.fullName === 'Greeter')).toMatchObject({ created: 'true' });
    const after = await retrieve(service, unpackaged({ CustomObject: ['*'], ApexClass: ['*'] }));
    expect(after.files).toEqual(before.files);
    expect(await listNames(service, 'CustomTab')).toContain('Broker__c');
    expect(await listNames(service, 'ApexClass')).toEqual([]);
  });

  it('deletes the components named in destructiveChanges.xml and warns about missing ones', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(service, {
      'package.xml': packageXml({}),
      'destructiveChanges.xml': packageXml({
        CustomTab: ['Settings'],
        CustomField: ['Property__c.Tags__c'],
        ApexClass: ['NotThere'],
      }),
    });
    expect(result.status).toBe('Succeeded');
    expect(
      successes(result)
        .filter((m) => m.deleted === 'true')
        .map((m) => m.fullName),
    ).toEqual(['Settings', 'Property__c.Tags__c']);
    expect(failures(result)).toEqual([
      expect.objectContaining({
        componentType: 'ApexClass',
        problem: 'No ApexClass named: NotThere found',
        problemType: 'Warning',
      }),
    ]);
    expect(await listNames(service, 'CustomTab')).not.toContain('Settings');
    expect(await listNames(service, 'CustomField')).not.toContain('Property__c.Tags__c');
    const { files } = await retrieve(service, unpackaged({ CustomObject: ['Property__c'] }));
    expect(files['objects/Property__c.object']).not.toContain('<fullName>Tags__c</fullName>');
  });

  it('rolls back the whole deploy when one component fails and rollbackOnError is set', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(service, {
      'package.xml': packageXml({ ApexClass: ['Greeter', 'Missing'], Layout: ['Broken'] }),
      'classes/Greeter.cls': 'public class Greeter {}',
      'classes/Greeter.cls-meta.xml': CLASS_META,
      'layouts/Broken.layout': `<Layout ${NS}><layoutSections>`,
    });
    expect(result).toMatchObject({ status: 'Failed', success: 'false', numberComponentErrors: '2' });
    const problems = failures(result).map((f) => `${f.componentType}:${f.fullName}:${f.problem}`);
    expect(problems).toContain(
      "ApexClass:Missing:An object 'Missing' of type ApexClass was named in package.xml, but was not found in zipped directory",
    );
    expect(problems.find((p) => p.startsWith('Layout:Broken:Error parsing file'))).toBeDefined();
    expect(await listNames(service, 'ApexClass')).toEqual([]);
  });

  it('keeps the components that succeeded when rollbackOnError is off', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(
      service,
      {
        'package.xml': packageXml({ ApexClass: ['Greeter', 'Missing'] }),
        'classes/Greeter.cls': 'public class Greeter {}',
        'classes/Greeter.cls-meta.xml': CLASS_META,
      },
      '<rollbackOnError>false</rollbackOnError><singlePackage>true</singlePackage>',
    );
    expect(result).toMatchObject({ status: 'SucceededPartial', success: 'true', numberComponentErrors: '1' });
    expect(await listNames(service, 'ApexClass')).toEqual(['Greeter']);
  });

  it('refuses a file whose root element is not its type', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(service, {
      'package.xml': packageXml({ CustomTab: ['Odd'] }),
      'tabs/Odd.tab': `<Layout ${NS}></Layout>`,
    });
    expect(result.status).toBe('Failed');
    expect(String(failures(result)[0]?.problem)).toContain('expected root element CustomTab');
  });

  it('fails a zip without package.xml', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(service, { 'classes/A.cls': 'public class A {}' });
    expect(result).toMatchObject({ status: 'Failed', errorMessage: 'No package.xml found' });
  });

  it('finds the package folder of a zip deployed without singlePackage', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(
      service,
      {
        'unpackaged/package.xml': packageXml({ ApexClass: ['*'] }),
        'unpackaged/classes/Greeter.cls': 'public class Greeter {}',
        'unpackaged/classes/Greeter.cls-meta.xml': CLASS_META,
      },
      '<singlePackage>false</singlePackage>',
    );
    expect(result.status).toBe('Succeeded');
    expect(successes(result).find((m) => m.fullName === 'Greeter')).toMatchObject({
      fileName: 'unpackaged/classes/Greeter.cls',
    });
    expect(await listNames(service, 'ApexClass')).toEqual(['Greeter']);
  });

  it('omits the details unless includeDetails is asked for', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const zip = Buffer.from('not a zip').toString('base64');
    const started = await callOne(
      service,
      'deploy',
      `<ZipFile>${zip}</ZipFile><DeployOptions></DeployOptions>`,
    );
    await callOne(service, 'checkDeployStatus', `<asyncProcessId>${started.id}</asyncProcessId>`);
    const done = await callOne(
      service,
      'checkDeployStatus',
      `<asyncProcessId>${started.id}</asyncProcessId>`,
    );
    expect(done.details).toBeUndefined();
    expect(done.status).toBe('Failed');
    expect(String(done.errorMessage)).toContain('The deploy zip file could not be read');
  });

  it('deploys a report folder named under Report in package.xml, as Salesforce manifests name folders', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(service, {
      'package.xml': packageXml({ Report: ['Sales', 'Sales/Pipeline'] }),
      'reports/Sales-meta.xml': `<ReportFolder ${NS}><name>Sales</name></ReportFolder>`,
      'reports/Sales/Pipeline.report': `<Report ${NS}><name>Pipeline</name></Report>`,
    });
    expect(result.status).toBe('Succeeded');
    expect(successes(result).map((m) => `${m.componentType}:${m.fullName}`)).toEqual(
      expect.arrayContaining(['ReportFolder:Sales', 'Report:Sales/Pipeline']),
    );
    expect(await listNames(service, 'ReportFolder')).toEqual(['Sales']);
  });

  it('refuses fields for a custom object that neither exists nor is described in the file', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const { result } = await deploy(service, {
      'package.xml': packageXml({ CustomObject: ['Ghost__c'] }),
      'objects/Ghost__c.object': objectFile(newField('Name__c', 'Name')),
    });
    expect(result.status).toBe('Failed');
    expect(failures(result)).toEqual([
      expect.objectContaining({
        componentType: 'CustomObject',
        fullName: 'Ghost__c',
        problem: 'Must specify a non-empty label for the CustomObject',
      }),
    ]);
    expect(await listNames(service, 'CustomObject')).not.toContain('Ghost__c');
  });

  it('adds a custom label and deletes another by its own name', async () => {
    const service = createMetadataService({ projectDirs: [DREAMHOUSE] });
    const label = (name: string) =>
      `<labels><fullName>${name}</fullName><language>en_US</language><protected>false</protected><shortDescription>${name}</shortDescription><value>${name}</value></labels>`;
    const first = await deploy(service, {
      'package.xml': packageXml({ CustomLabels: ['CustomLabels'] }),
      'labels/CustomLabels.labels': `<CustomLabels ${NS}>${label('Keep')}${label('Drop')}</CustomLabels>`,
    });
    expect(first.result.status).toBe('Succeeded');
    expect(
      successes(first.result)
        .filter((m) => m.componentType === 'CustomLabel')
        .map((m) => m.fullName),
    ).toEqual(['Keep', 'Drop']);
    const second = await deploy(service, {
      'package.xml': packageXml({ CustomLabel: ['Added'] }),
      'labels/CustomLabels.labels': `<CustomLabels ${NS}>${label('Added')}</CustomLabels>`,
      'destructiveChanges.xml': packageXml({ CustomLabel: ['Drop'] }),
    });
    expect(second.result.status).toBe('Succeeded');
    expect(await listNames(service, 'CustomLabel')).toEqual(['Added', 'Keep']);
  });
});
