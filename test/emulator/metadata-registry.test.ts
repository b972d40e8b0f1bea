import { RegistryAccess } from '@salesforce/source-deploy-retrieve';
import { describe, expect, it } from 'vitest';
import { METADATA_TYPES, REFUSED_TYPES } from '../../emulator/metadata/registry.ts';

// Salesforce's own access layer over its registry, independent of the JSON the emulator reads.
const sdr = new RegistryAccess();

function served(xmlName: string) {
  const type = METADATA_TYPES.find((t) => t.xmlName === xmlName);
  if (!type) throw new Error(`${xmlName} is not served by the emulator`);
  return type;
}

describe("the emulator's metadata types follow Salesforce's registry", () => {
  const sample = [
    'ApexClass',
    'Bot',
    'CustomLabels',
    'CustomObject',
    'CustomObjectTranslation',
    'Dashboard',
    'DashboardFolder',
    'Document',
    'EmailTemplate',
    'ExperienceBundle',
    'FeatureParameterInteger',
    'GenAiPlannerBundle',
    'LightningComponentBundle',
    'Report',
    'SharingRules',
    'StaticResource',
    'WaveDashboard',
    'Workflow',
  ];

  it.each(sample)('describes %s with the directory, folder and children SDR gives it', (xmlName) => {
    const theirs = sdr.getTypeByName(xmlName);
    const ours = served(xmlName);
    expect(ours.directoryName).toBe(theirs.directoryName);
    expect(ours.inFolder).toBe(theirs.inFolder === true);
    expect(ours.folderType).toBe(theirs.folderType ? sdr.getTypeByName(theirs.folderType).name : undefined);
    expect(ours.children.map((c) => c.xmlName).sort()).toEqual(
      Object.values(theirs.children?.types ?? {})
        .map((c) => c.name)
        .sort(),
    );
    for (const child of ours.children) {
      const theirChild = sdr.getTypeByName(child.xmlName);
      expect(child.suffix).toBe(theirChild.suffix);
      expect(child.directoryName).toBe(theirChild.directoryName);
      expect(child.idElement).toBe(theirChild.uniqueIdElement ?? 'fullName');
    }
    if (ours.layout === 'decomposed') {
      expect(ours.decomposition).toBe(theirs.strategies?.decomposition);
    }
    // Bundles, documents and experience bundles have no one suffix in Metadata API format.
    if (!['bundle', 'document', 'site'].includes(ours.layout)) expect(ours.suffix).toBe(theirs.suffix);
  });

  it('serves or refuses every type of the registry, and names why it refuses one', () => {
    const names = Object.values(sdr.getRegistry().types)
      .filter((t) => !t.aliasFor)
      .map((t) => t.name)
      .sort();
    const accounted = [
      ...METADATA_TYPES.map((t) => t.xmlName),
      ...REFUSED_TYPES.filter((r) => !r.parent).map((r) => r.xmlName),
    ].sort();
    expect(accounted).toEqual(names);
    expect(METADATA_TYPES.length).toBeGreaterThan(500);
    for (const refused of REFUSED_TYPES) expect(refused.reason).not.toBe('');
    expect(REFUSED_TYPES.map((r) => r.xmlName)).toEqual(
      expect.arrayContaining(['DigitalExperienceBundle', 'Territory2', 'Territory2Model', 'UIBundle']),
    );
  });
});
