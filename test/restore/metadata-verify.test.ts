import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { MetadataDeployError, MetadataVerificationError } from '../../lambdas/core/restore/errors.ts';
import { advanceMetadataRestore, type MetadataProgress } from '../../lambdas/core/restore/metadata.ts';
import { compareComponentZips } from '../../lambdas/core/restore/metadata-verify.ts';
import type { DeployState, RetrieveState, SnapshotComponent } from '../../lambdas/core/restore/model.ts';
import { FakeOrg, FakeSnapshot } from './fakes.ts';

const LAYOUT = { type: 'Layout', fullName: 'Broker__c-Broker Layout' };
const FIELD = { type: 'CustomField', fullName: 'Broker__c.Email__c' };

const layoutXml = (label: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Layout xmlns="http://soap.sforce.com/2006/04/metadata">\n    <layoutSections>\n        <label>${label}</label>\n    </layoutSections>\n</Layout>\n`;
const objectXml = (emailLength: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com/2006/04/metadata"><fields><fullName>Email__c</fullName><length>${emailLength}</length></fields>${extra}<label>Broker</label></CustomObject>`;

function zip(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([p, t]) => [p, strToU8(t)])));
}

describe('comparing deployed metadata with the snapshot', () => {
  it('accepts a retrieve that differs only in whitespace, the declaration and the unpackaged folder', () => {
    const expected = zip({
      'package.xml': '<Package/>',
      'layouts/Broker__c-Broker Layout.layout': layoutXml('Info'),
    });
    const got = zip({
      'unpackaged/package.xml': '<Package/>',
      'unpackaged/layouts/Broker__c-Broker Layout.layout': layoutXml('Info').replace(/\n\s*/g, ''),
    });
    expect(compareComponentZips(expected, got, [LAYOUT])).toEqual([]);
  });

  it('names a whole component whose retrieved file differs or is missing', () => {
    const expected = zip({ 'layouts/Broker__c-Broker Layout.layout': layoutXml('Info') });
    expect(
      compareComponentZips(expected, zip({ 'layouts/Broker__c-Broker Layout.layout': layoutXml('Other') }), [
        LAYOUT,
      ]),
    ).toEqual([
      'Layout:Broker__c-Broker Layout: layouts/Broker__c-Broker Layout.layout differs from the snapshot',
    ]);
    expect(compareComponentZips(expected, zip({}), [LAYOUT])).toEqual([
      'Layout:Broker__c-Broker Layout: the org returned no layouts/Broker__c-Broker Layout.layout',
    ]);
  });

  it('compares a field by its own element, whatever else its object file holds', () => {
    const expected = zip({
      'objects/Broker__c.object': objectXml('80', '<fields><fullName>Phone__c</fullName></fields>'),
    });
    expect(
      compareComponentZips(expected, zip({ 'objects/Broker__c.object': objectXml('80') }), [FIELD]),
    ).toEqual([]);
    expect(
      compareComponentZips(expected, zip({ 'objects/Broker__c.object': objectXml('40') }), [FIELD]),
    ).toEqual(['CustomField:Broker__c.Email__c: differs from the snapshot']);
  });
});

/** An org whose retrieve returns a given zip, as if it had changed what was deployed. */
class ReadBackOrg extends FakeOrg {
  constructor(private readonly readBack: Uint8Array) {
    super([]);
  }
  override async retrieveStatus(id: string): Promise<RetrieveState> {
    return { id, done: true, success: true, zip: this.readBack };
  }
}

/** An org that refuses the components, as a validation would when a field they use is gone. */
class RefusingOrg extends FakeOrg {
  readonly checkOnly: boolean[] = [];
  constructor() {
    super([]);
  }
  override async deploy(_zip?: Uint8Array, checkOnly?: boolean): Promise<string> {
    this.checkOnly.push(checkOnly === true);
    return '0Af000000000002';
  }
  override async deployStatus(id: string): Promise<DeployState> {
    return {
      id,
      done: true,
      success: false,
      status: 'Failed',
      failures: [{ component: 'Layout:Broker__c-Broker Layout', problem: 'Field Email__c does not exist' }],
    };
  }
}

class ZipSnapshot extends FakeSnapshot {
  constructor(private readonly zipBytes: Uint8Array) {
    super('snap', '00D000000000001AAA', '2026-01-01T00:00:00.000Z', {});
  }
  override async componentZip(): Promise<Uint8Array> {
    return this.zipBytes;
  }
}

async function runToEnd(
  org: FakeOrg,
  snapshot: FakeSnapshot,
  components: SnapshotComponent[],
  dryRun = false,
) {
  let progress: MetadataProgress = { done: false };
  for (let i = 0; i < 10 && !progress.done; i++)
    progress = await advanceMetadataRestore({ org, snapshot, components, progress, dryRun });
  return progress;
}

describe('the metadata restore', () => {
  const snapshotZip = zip({ 'layouts/Broker__c-Broker Layout.layout': layoutXml('Info') });

  it('stops after the validation on a dry run and reports that it passed', async () => {
    const done = await runToEnd(new ReadBackOrg(snapshotZip), new ZipSnapshot(snapshotZip), [LAYOUT], true);
    expect(done.report).toBe(
      'The metadata validation (checkOnly) passed for Layout:Broker__c-Broker Layout; nothing was saved.',
    );
    expect(done.retrieveId).toBeUndefined();
  });

  it('finishes once the deployed components read back equal to the snapshot', async () => {
    const done = await runToEnd(new ReadBackOrg(snapshotZip), new ZipSnapshot(snapshotZip), [LAYOUT]);
    expect(done).toMatchObject({ done: true, deployed: 1 });
    expect(done.report).toContain('read back equal to the snapshot');
  });

  it('fails when the deployed components read back different from the snapshot', async () => {
    const changed = zip({ 'layouts/Broker__c-Broker Layout.layout': layoutXml('Changed') });
    await expect(runToEnd(new ReadBackOrg(changed), new ZipSnapshot(snapshotZip), [LAYOUT])).rejects.toThrow(
      MetadataVerificationError,
    );
  });

  it('reports a failed validation in a dry run instead of failing, and deploys nothing', async () => {
    const org = new RefusingOrg();
    const done = await runToEnd(org, new ZipSnapshot(snapshotZip), [LAYOUT], true);
    expect(done.done).toBe(true);
    expect(done.report).toBe(
      'The metadata validation (checkOnly) failed: Layout:Broker__c-Broker Layout: Field Email__c does not exist',
    );
    expect(org.checkOnly).toEqual([true]);
  });

  it('stops a real restore at a failed validation, before the real deploy', async () => {
    const org = new RefusingOrg();
    await expect(runToEnd(org, new ZipSnapshot(snapshotZip), [LAYOUT])).rejects.toThrow(MetadataDeployError);
    expect(org.checkOnly).toEqual([true]);
  });
});
