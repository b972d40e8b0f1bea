import { describe, expect, it } from 'vitest';
import { generateOrg } from '../../emulator/generate/generate.ts';
import { createMetadataService } from '../../emulator/metadata/index.ts';
import { loadProject } from '../../emulator/fixtures/project.ts';
import { createOrg } from '../../emulator/org/org.ts';
import { DREAMHOUSE, deploy, EBIKES, retrieve, unpackaged } from './metadata-support.ts';

describe('custom objects of the data org as metadata', () => {
  it('describes a generated org objects and fields as retrievable CustomObject metadata', async () => {
    const { org } = generateOrg('objects=2,rows=1,fields=12,seed=7');
    const service = createMetadataService({ projectDirs: [], orgObjects: org.describeGlobal() });
    expect(service.list('CustomObject').map((o) => o.fullName)).toEqual([
      'Gen_Object_0001__c',
      'Gen_Object_0002__c',
    ]);
    const fields = service.list('CustomField').map((f) => f.fullName);
    expect(fields).toContain('Gen_Object_0002__c.Related__c');
    expect(fields).toContain('Gen_Object_0001__c.Status__c');

    const { files } = await retrieve(service, unpackaged({ CustomObject: ['*'] }));
    const object = files['objects/Gen_Object_0002__c.object'] ?? '';
    expect(object).toContain('<label>Generated 2</label>');
    expect(object).toMatch(
      /<fields>\s*<fullName>Related__c<\/fullName>[\s\S]*?<referenceTo>Gen_Object_0001__c<\/referenceTo>[\s\S]*?<type>Lookup<\/type>/,
    );
    expect(object).toMatch(
      /<fullName>Status__c<\/fullName>[\s\S]*?<type>Picklist<\/type>\s*<valueSet>[\s\S]*?<fullName>New<\/fullName>/,
    );
    expect(object).toMatch(/<fullName>External_Id__c<\/fullName>\s*<externalId>true<\/externalId>/);

    // What was retrieved deploys back as it is: valid metadata, nothing created or changed.
    const { result } = await deploy(service, files);
    expect(result.status).toBe('Succeeded');
    const details = result.details as { componentSuccesses: Array<Record<string, unknown>> };
    const touched = details.componentSuccesses.filter(
      (m) => m.created === 'true' || (m.changed === 'true' && m.fullName !== 'package.xml'),
    );
    expect(touched).toEqual([]);
  });

  it('leaves objects and fields that a project describes to the project', async () => {
    const org = createOrg();
    for (const dir of [DREAMHOUSE, EBIKES]) loadProject(org, dir);
    const fromProjectOnly = createMetadataService({ projectDirs: [DREAMHOUSE, EBIKES] });
    const withOrg = createMetadataService({
      projectDirs: [DREAMHOUSE, EBIKES],
      orgObjects: org.describeGlobal(),
    });
    const names = (s: typeof withOrg) => s.list('CustomField').map((f) => f.fullName);
    expect(names(withOrg)).toEqual(names(fromProjectOnly));
    const manifest = unpackaged({ CustomObject: ['*'], CustomField: ['Case.Product__c'] });
    const a = await retrieve(fromProjectOnly, manifest);
    const b = await retrieve(withOrg, manifest);
    expect(b.files).toEqual(a.files);
  });
});
