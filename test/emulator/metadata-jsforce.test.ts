import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { DREAMHOUSE, EBIKES, packageXml } from './metadata-support.ts';

const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';

type RetrieveRequest = Parameters<jsforce.Connection['metadata']['retrieve']>[0];

/** A retrieve request as sf sends it; jsforce's type wants every optional Package field. */
function request(types: Record<string, string[]>): RetrieveRequest {
  const unpackaged = {
    types: Object.entries(types).map(([name, members]) => ({ name, members })),
    version: '62.0',
  };
  return { apiVersion: '62.0', singlePackage: true, unpackaged } as unknown as RetrieveRequest;
}

describe('Metadata API through jsforce against the running emulator', () => {
  let emulator: RunningEmulator;
  let conn: jsforce.Connection;

  beforeAll(async () => {
    emulator = await startEmulator({ projectDirs: [DREAMHOUSE, EBIKES] });
    conn = new jsforce.Connection({
      instanceUrl: emulator.instanceUrl,
      accessToken: emulator.accessToken,
      version: '62.0',
    });
    conn.metadata.pollInterval = 50;
  });

  afterAll(async () => {
    await emulator.stop();
  });

  it('describes the metadata types', async () => {
    const result = await conn.metadata.describe('62.0');
    const customObject = result.metadataObjects.find((o) => o.xmlName === 'CustomObject');
    expect(customObject).toMatchObject({
      directoryName: 'objects',
      suffix: 'object',
      inFolder: false,
      metaFile: false,
    });
    expect(customObject?.childXmlNames).toContain('CustomField');
    expect(result.partialSaveAllowed).toBe(true);
  });

  it('lists the components of both sample projects', async () => {
    const results = await conn.metadata.list([{ type: 'CustomObject' }, { type: 'CustomTab' }]);
    const names = results.map((r) => `${r.type}:${r.fullName}`);
    expect(names).toEqual(
      expect.arrayContaining(['CustomObject:Property__c', 'CustomObject:Product__c', 'CustomTab:Broker__c']),
    );
    expect(results.filter((r) => r.type === 'CustomTab')).toHaveLength(9);
  });

  it('retrieves a zip with package.xml and the requested files', async () => {
    const result = await conn.metadata.retrieve(request({ CustomObject: ['Property__c'] })).complete();
    expect(result.status).toBe('Succeeded');
    const files = unzipSync(Buffer.from(result.zipFile, 'base64'));
    expect(Object.keys(files).sort()).toEqual(['objects/Property__c.object', 'package.xml']);
    expect(strFromU8(files['objects/Property__c.object']!)).toContain('<fullName>Price__c</fullName>');
  });

  it('deploys a class that a later retrieve returns, and checkOnly deploys nothing', async () => {
    const zip = (name: string): Buffer =>
      Buffer.from(
        zipSync({
          'package.xml': strToU8(packageXml({ ApexClass: [name] })),
          [`classes/${name}.cls`]: strToU8(`public class ${name} {}`),
          [`classes/${name}.cls-meta.xml`]: strToU8(
            `<ApexClass ${NS}><apiVersion>62.0</apiVersion></ApexClass>`,
          ),
        }),
      );
    const validated = await conn.metadata
      .deploy(zip('OnlyChecked'), { checkOnly: true, singlePackage: true })
      .complete(true);
    expect(validated).toMatchObject({ status: 'Succeeded', success: true, checkOnly: true });
    const deployed = await conn.metadata
      .deploy(zip('Deployed'), { singlePackage: true, rollbackOnError: true })
      .complete(true);
    expect(deployed).toMatchObject({ status: 'Succeeded', success: true, numberComponentErrors: 0 });
    expect(deployed.details.componentSuccesses.map((m) => m.fullName)).toContain('Deployed');

    const classes = await conn.metadata.list([{ type: 'ApexClass' }]);
    expect(classes.map((c) => c.fullName)).toEqual(['Deployed']);
    const result = await conn.metadata.retrieve(request({ ApexClass: ['*'] })).complete();
    const files = unzipSync(Buffer.from(result.zipFile, 'base64'));
    expect(strFromU8(files['classes/Deployed.cls']!)).toBe('public class Deployed {}');
  });

  it('surfaces an unknown type as the jsforce error sf:INVALID_TYPE, named by the fault code', async () => {
    await expect(conn.metadata.list([{ type: 'NoSuchType' }])).rejects.toMatchObject({
      name: 'sf:INVALID_TYPE',
      message: 'INVALID_TYPE: Unknown type:NoSuchType',
    });
  });

  it('rejects a call with an invalid session as sf:INVALID_SESSION_ID', async () => {
    const bad = new jsforce.Connection({
      instanceUrl: emulator.instanceUrl,
      accessToken: '00Dbad!token',
      version: '62.0',
    });
    await expect(bad.metadata.describe('62.0')).rejects.toMatchObject({ name: 'sf:INVALID_SESSION_ID' });
  });
});

describe('Metadata API of a generated org', () => {
  it('lists the generated custom objects and their fields', async () => {
    const emulator = await startEmulator({ generate: 'objects=2,rows=1,fields=12,seed=3' });
    try {
      const conn = new jsforce.Connection({
        instanceUrl: emulator.instanceUrl,
        accessToken: emulator.accessToken,
        version: '62.0',
      });
      const objects = await conn.metadata.list([{ type: 'CustomObject' }]);
      expect(objects.map((o) => o.fullName).sort()).toEqual(['Gen_Object_0001__c', 'Gen_Object_0002__c']);
      const fields = await conn.metadata.list([{ type: 'CustomField' }]);
      expect(fields.map((f) => f.fullName)).toContain('Gen_Object_0002__c.Parent__c');
    } finally {
      await emulator.stop();
    }
  });
});
