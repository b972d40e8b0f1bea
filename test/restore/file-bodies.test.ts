import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyFiles } from '../../lambdas/core/restore/files-verify.ts';
import {
  type FilePlan,
  MAX_FILE_BYTES,
  planFiles,
  restoreFiles,
  summarizeFilePlan,
} from '../../lambdas/core/restore/files.ts';
import { restoreKeys, restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { idKey } from '../../lambdas/core/restore/values.ts';
import type { ObjectInfo, SnapshotFile, SnapshotFileVersion } from '../../lambdas/core/restore/model.ts';
import { FakeOrg, FakeSnapshot, field, MemoryStore, systemFields } from './fakes.ts';
import { ACCOUNT, accountId, BROKER, ORG_NAME } from './scenario.ts';

const CONTACT: ObjectInfo = {
  ...ACCOUNT,
  name: 'Contact',
  keyPrefix: '003',
  fields: [...systemFields(), field('LastName')],
};
const LINK: ObjectInfo = {
  name: 'ContentDocumentLink',
  keyPrefix: '06A',
  createable: true,
  updateable: true,
  undeletable: false,
  fields: [field('Id', 'id'), field('LinkedEntityId', 'reference', { referenceTo: ['Account', 'Contact'] })],
};
const OWNER = '005000000000009AAA';
const DOC = '069000000000001AAA';
const contactId = (n: number) => `00300000000${String(n).padStart(4, '0')}AAA`;

function version(n: number, text: string, read?: string[]): SnapshotFileVersion {
  const versionId = `06800000000000${n}AAA`;
  return {
    versionId,
    versionNumber: n,
    title: 'Plan',
    pathOnClient: 'plan.txt',
    reasonForChange: n > 1 ? `draft ${n}` : null,
    bytes: text.length,
    read: async () => {
      read?.push(versionId);
      return new TextEncoder().encode(text);
    },
  };
}

function threeVersionFile(read?: string[]): SnapshotFile {
  const links = [
    { id: '06A000000000001AAA', linkedEntityId: OWNER, shareType: 'I', visibility: 'AllUsers' },
    { id: '06A000000000002AAA', linkedEntityId: accountId(1), shareType: 'V', visibility: 'AllUsers' },
    { id: '06A000000000003AAA', linkedEntityId: contactId(1), shareType: 'C', visibility: 'InternalUsers' },
    { id: '06A000000000004AAA', linkedEntityId: contactId(2), shareType: 'V', visibility: 'SharedUsers' },
  ];
  return {
    contentDocumentId: DOC,
    versionId: '068000000000003AAA',
    title: 'Plan',
    firstPublishLocationId: accountId(1),
    ownerId: OWNER,
    linkedEntityIds: [accountId(1), OWNER, contactId(1), contactId(2)],
    versions: [version(1, 'one', read), version(2, 'two', read), version(3, 'three', read)],
    links,
  };
}

/** Three three-version files, each with ids of its own; `version` may change each version. */
function threeFiles(
  version: (v: SnapshotFileVersion, file: number) => SnapshotFileVersion = (v) => v,
): SnapshotFile[] {
  return [1, 2, 3].map((n) => {
    const file = threeVersionFile();
    const id = (prefix: string, v: number) => `${prefix}00000000${n}0${v}AAA`;
    return {
      ...file,
      contentDocumentId: id('069', 0),
      versionId: id('068', 3),
      versions: file.versions.map((v) => version({ ...v, versionId: id('068', v.versionNumber) }, n)),
      links: file.links.map((l, i) => ({ ...l, id: id('06A', i) })),
    };
  });
}

function setting(file: SnapshotFile = threeVersionFile(), ownerActive = true) {
  const org = new FakeOrg([BROKER, ACCOUNT, CONTACT, LINK]);
  org.seed('User', { Id: OWNER, IsActive: String(ownerActive) });
  org.seed('Account', { Id: accountId(1), Name: 'A' });
  org.seed('Contact', { Id: contactId(1), LastName: 'C' });
  org.seed('Contact', { Id: contactId(2), LastName: 'D' });
  const snapshot = new FakeSnapshot('20260101T000000Z-abcdef', org.orgId, '2026-01-01T00:00:00.000Z', {}, [
    file,
  ]);
  const store = new MemoryStore();
  const root = restoreRoot(ORG_NAME, org.orgId);
  const plan = () => planFiles({ org, snapshot, scope: new Map(), allFiles: true });
  const restore = (filePlan: FilePlan, runId = 'run-files') =>
    restoreFiles({
      org,
      store,
      snapshot: async () => snapshot,
      root,
      runId,
      userId: org.userId,
      plan: filePlan,
      danglingReferences: [],
    });
  const verify = async (filePlan: FilePlan) =>
    (
      await verifyFiles({
        org,
        store,
        snapshot: async () => snapshot,
        root,
        runId: 'run-files',
        plan: filePlan,
      })
    ).problems;
  const state = () => {
    const docs = org.live('ContentDocument');
    return docs.map((d) => ({
      versions: org
        .live('ContentVersion')
        .filter((v) => v.ContentDocumentId === d.Id)
        .map((v) => [v.VersionNumber, v.Checksum, v.ReasonForChange]),
      links: org
        .live('ContentDocumentLink')
        .filter((l) => l.ContentDocumentId === d.Id)
        .map((l) => [l.LinkedEntityId, l.ShareType, l.Visibility].join(' '))
        .sort(),
    }));
  };
  return { org, store, snapshot, plan, restore, verify, state };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * Runs the files step invocation after invocation, each past its deadline once it has made one
 * file, failing on any file failure; answers the cursor each invocation started at (at most 5).
 */
async function restoreInSteps(args: {
  org: FakeOrg;
  store: MemoryStore;
  snapshot: () => Promise<FakeSnapshot>;
  root: string;
  runId: string;
  plan: FilePlan;
}): Promise<number[]> {
  let clock = 0;
  const invocations: number[] = [];
  for (let cursor = 0; invocations.length < 5; ) {
    invocations.push(cursor);
    const outcome = await restoreFiles({
      ...args,
      userId: args.org.userId,
      danglingReferences: [],
      now: () => ++clock,
      cursor,
      deadline: clock,
    });
    expect(outcome.failures).toEqual([]);
    if (outcome.done) break;
    cursor = outcome.next;
  }
  return invocations;
}

describe('restoring a file whole', () => {
  it('asks the snapshot only for the files of the records it restores, then only for the documents it planned', async () => {
    // GIVEN the file, linked to two contacts, and a restore of one of them
    const { org, snapshot, restore, verify } = setting();
    const scope = new Map([['Contact', new Map([[idKey(contactId(2)), { Id: contactId(2) }]])]]);
    // WHEN it plans, restores and verifies the contact's files
    const filePlan = await planFiles({ org, snapshot, scope, allFiles: false });
    await restore(filePlan);
    expect(await verify(filePlan)).toEqual([]);
    // THEN the snapshot was asked for the files linked to the contact, then for the planned document
    expect(filePlan.entries).toEqual([expect.objectContaining({ contentDocumentId: DOC, action: 'insert' })]);
    expect(snapshot.fileSelections).toEqual([
      { linkedTo: new Set([idKey(contactId(2))]) },
      { documents: [DOC] },
      { documents: [DOC] },
    ]);
  });

  it('plans a gone file with its versions and links, leaving out the owner link Salesforce makes', async () => {
    const { plan } = setting();
    const filePlan = await plan();
    expect(filePlan.entries).toEqual([
      expect.objectContaining({ action: 'insert', versions: 3, links: 3, unlinkable: [], missingBodies: [] }),
    ]);
    expect(summarizeFilePlan(filePlan, 20).join('\n')).toMatch(
      /file 069000000000001AAA: make again: 3 version\(s\) in order, 3 link\(s\)/,
    );
  });

  it('makes every version in order in one new document and every link with its ShareType and Visibility, and verifies it', async () => {
    const { plan, restore, verify, state } = setting();
    const filePlan = await plan();
    const outcome = await restore(filePlan);
    expect(outcome).toMatchObject({ restored: 1, versions: 3, links: 3, failures: [] });
    expect(state()).toEqual([
      {
        versions: [
          ['1', md5('one'), null],
          ['2', md5('two'), 'draft 2'],
          ['3', md5('three'), 'draft 3'],
        ],
        links: [
          `${OWNER} I AllUsers`,
          `${accountId(1)} V AllUsers`,
          `${contactId(1)} C InternalUsers`,
          `${contactId(2)} V SharedUsers`,
        ].sort(),
      },
    ]);
    expect(await verify(filePlan)).toEqual([]);
  });

  it('carries on after a crash between two versions without making a version twice', async () => {
    const { org, plan, restore, verify, state } = setting();
    const filePlan = await plan();
    org.crashAfterFiles = 1;
    await expect(restore(filePlan)).rejects.toThrow(/simulated crash/);
    expect(state()[0]?.versions).toHaveLength(2);
    const outcome = await restore(filePlan);
    expect(outcome).toMatchObject({ restored: 1, failures: [] });
    expect(state()[0]?.versions.map((v) => v[0])).toEqual(['1', '2', '3']);
    expect(await verify(filePlan)).toEqual([]);
  });

  it('carries on after a crash between two links without making a link twice', async () => {
    const { org, plan, restore, verify, state } = setting();
    const filePlan = await plan();
    const create = org.create.bind(org);
    let links = 0;
    org.create = async (object, rows) => {
      const results = await create(object, rows);
      if (object === 'ContentDocumentLink' && ++links === 1) throw new Error('simulated crash after a link');
      return results;
    };
    await expect(restore(filePlan)).rejects.toThrow(/simulated crash/);
    expect(state()[0]?.links).toHaveLength(3);
    await restore(filePlan);
    expect(state()[0]?.links).toHaveLength(4);
    expect(await verify(filePlan)).toEqual([]);
  });

  it('reports each link whose record is neither live nor restored, in the plan and the outcome, and verification says so', async () => {
    const { org, plan, restore, verify } = setting();
    org.hardDelete('Contact', contactId(2));
    const filePlan = await plan();
    expect(filePlan.entries[0]?.unlinkable).toEqual([
      { linkedEntityId: contactId(2), reason: expect.stringMatching(/neither in the org nor restored/) },
    ]);
    expect(summarizeFilePlan(filePlan, 20).join('\n')).toMatch(
      new RegExp(`link to ${contactId(2)} cannot be made: record`),
    );
    const outcome = await restore(filePlan);
    expect(outcome.failures).toEqual([
      expect.objectContaining({
        fileId: DOC,
        itemId: contactId(2),
        errors: [expect.objectContaining({ statusCode: 'LINK_TARGET_MISSING' })],
      }),
    ]);
    expect((await verify(filePlan)).map((p) => p.problem)).toEqual([
      expect.stringMatching(
        new RegExp(`the link to ${contactId(2)} \\(ShareType V, Visibility SharedUsers\\) is missing`),
      ),
    ]);
  });

  it('reports a one-version copy of a two-version file as differing, naming the file', async () => {
    const { org, plan, restore, verify } = setting();
    const filePlan = await plan();
    await restore(filePlan);
    const third = org.live('ContentVersion').find((v) => v.VersionNumber === '3')!;
    org.hardDelete('ContentVersion', third.Id!);
    const problems = await verify(filePlan);
    expect(problems).toEqual([
      { fileId: DOC, problem: expect.stringMatching(/holds 2 version\(s\); the snapshot holds 3/) },
      { fileId: DOC, problem: expect.stringMatching(/version 3 is missing from document/) },
    ]);
  });

  it('refuses a version larger than one upload takes before reading it, and stops that file there', async () => {
    const read: string[] = [];
    const file = threeVersionFile(read);
    const big = { ...file.versions[1]!, bytes: MAX_FILE_BYTES + 1 };
    const { plan, restore, state } = setting({
      ...file,
      versions: [file.versions[0]!, big, file.versions[2]!],
    });
    const outcome = await restore(await plan());
    expect(read).toEqual(['068000000000001AAA']);
    expect(state()[0]?.versions).toHaveLength(1);
    expect(outcome.failures).toEqual([
      expect.objectContaining({
        fileId: DOC,
        itemId: big.versionId,
        errors: [
          expect.objectContaining({
            statusCode: 'FILE_TOO_LARGE',
            message: expect.stringMatching(/MB.*at most/),
          }),
        ],
      }),
    ]);
  });

  it('gives a re-made file its snapshot owner when that user is active, and verification compares the owner', async () => {
    const { org, plan, restore, verify } = setting();
    const filePlan = await plan();
    expect(summarizeFilePlan(filePlan, 20).join('\n')).toContain(`owned by ${OWNER}, as in the snapshot`);
    await restore(filePlan);
    const [doc] = org.live('ContentDocument');
    expect(doc?.OwnerId).toBe(OWNER);
    expect(org.live('ContentVersion').map((v) => v.OwnerId)).toEqual([OWNER, OWNER, OWNER]);
    expect(await verify(filePlan)).toEqual([]);
    doc!.OwnerId = org.userId;
    expect((await verify(filePlan)).map((p) => p.problem)).toContain(
      `document ${doc!.Id} is owned by ${org.userId}; the snapshot's owner is ${OWNER}`,
    );
  });

  it('says in the plan that the restoring user owns a re-made file whose owner is not active, and verification reports it', async () => {
    const { org, plan, restore, verify } = setting(threeVersionFile(), false);
    const filePlan = await plan();
    expect(summarizeFilePlan(filePlan, 20).join('\n')).toContain(
      `owner ${OWNER} is not an active user in the org: the restoring user owns the file`,
    );
    await restore(filePlan);
    expect(org.live('ContentDocument')[0]?.OwnerId).toBe(org.userId);
    expect((await verify(filePlan)).map((p) => p.problem)).toEqual([
      expect.stringMatching(new RegExp(`the snapshot's owner ${OWNER} is not an active user`)),
    ]);
  });

  it('verifies each version against the snapshot checksum without reading its body', async () => {
    const read: string[] = [];
    const file = threeVersionFile(read);
    const { org, plan, restore, verify } = setting({
      ...file,
      versions: file.versions.map((v, i) => ({ ...v, checksum: md5(['one', 'two', 'three'][i]!) })),
    });
    const filePlan = await plan();
    await restore(filePlan);
    read.length = 0;
    expect(await verify(filePlan)).toEqual([]);
    expect(read).toEqual([]);
    const second = org.live('ContentVersion').find((v) => v.VersionNumber === '2')!;
    second.Checksum = md5('changed');
    expect((await verify(filePlan)).map((p) => p.problem)).toEqual([
      expect.stringMatching(/version 2 \(\w+\) does not hold the snapshot's bytes/),
    ]);
    expect(read).toEqual([]);
  });

  it('restores many files over several invocations, each starting no file after its deadline, and verifies them', async () => {
    const files = threeFiles();
    const { org, store, state } = setting(files[0]);
    const snapshot = new FakeSnapshot(
      '20260101T000000Z-abcdef',
      org.orgId,
      '2026-01-01T00:00:00.000Z',
      {},
      files,
    );
    const root = restoreRoot(ORG_NAME, org.orgId);
    const filePlan = await planFiles({ org, snapshot, scope: new Map(), allFiles: true });
    expect(filePlan.entries).toHaveLength(3);
    const invocations = await restoreInSteps({
      org,
      store,
      snapshot: async () => snapshot,
      root,
      runId: 'run-files',
      plan: filePlan,
    });
    expect(invocations).toEqual([0, 1, 2]);
    expect(state()).toHaveLength(3);
    for (const doc of state()) expect(doc.versions).toHaveLength(3);
    expect(
      (
        await verifyFiles({
          org,
          store,
          snapshot: async () => snapshot,
          root,
          runId: 'run-many',
          plan: filePlan,
        })
      ).problems,
    ).toEqual([]);
  });

  it("keeps each planned file's detail beside a real run's plan, so the steps after read their records and never the snapshot", async () => {
    const { org, store, state } = setting();
    // Three files whose bodies the vault holds under their SHA-256, as a snapshot view names them.
    const files = threeFiles((v, n) => {
      const bytes = new TextEncoder().encode(`file ${n} version ${v.versionNumber}`);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const key = `orgs/${ORG_NAME}/files/sha256/${sha256.slice(0, 2)}/${sha256}`;
      store.objects.set(key, bytes);
      return { ...v, bytes: bytes.length, body: { key, sha256, bytes: bytes.length } };
    });
    const snapshot = new FakeSnapshot(
      '20260101T000000Z-abcdef',
      org.orgId,
      '2026-01-01T00:00:00.000Z',
      {},
      files,
    );
    const root = restoreRoot(ORG_NAME, org.orgId);
    const keyOf = (record: number) => restoreKeys.fileDetails(root, 'run-details', record);
    const filePlan = await planFiles({
      org,
      snapshot,
      scope: new Map(),
      allFiles: true,
      details: { store, keyOf, perRecord: 2 },
    });
    expect(filePlan.details).toEqual({ records: 2, perRecord: 2 });
    expect(JSON.parse(new TextDecoder().decode(store.objects.get(keyOf(1))))).toHaveLength(1);
    // From here on the snapshot is not resolved (its manifests read): each step reads the records
    // of the entries it reaches.
    const unread = async (): Promise<FakeSnapshot> => {
      throw new Error('the snapshot was resolved again');
    };
    expect(
      await restoreInSteps({ org, store, snapshot: unread, root, runId: 'run-details', plan: filePlan }),
    ).toEqual([0, 1, 2]);
    expect(state()).toHaveLength(3);
    for (const doc of state()) expect(doc.versions.map((v) => v[0])).toEqual(['1', '2', '3']);
    const check = await verifyFiles({
      org,
      store,
      snapshot: unread,
      root,
      runId: 'run-details',
      plan: filePlan,
    });
    expect(check).toMatchObject({ problems: [], done: true });
    // A record lost or changed since the plan is named, not taken for a file the snapshot lacks.
    store.objects.set(keyOf(1), new TextEncoder().encode('[]'));
    await expect(
      verifyFiles({ org, store, snapshot: unread, root, runId: 'run-details', plan: filePlan }),
    ).rejects.toThrow(/details-000001\.json does not hold plan entry 2 .*Start the restore again/);
    store.objects.delete(keyOf(0));
    await expect(
      verifyFiles({ org, store, snapshot: unread, root, runId: 'run-details', plan: filePlan }),
    ).rejects.toThrow(/details-000000\.json is missing/);
  });

  it('plans a version whose body the vault lacks as a file that cannot be made whole', async () => {
    const file = threeVersionFile();
    const { read: _, ...bodiless } = file.versions[1]!;
    const { plan } = setting({ ...file, versions: [file.versions[0]!, bodiless, file.versions[2]!] });
    const filePlan = await plan();
    expect(filePlan.entries[0]?.missingBodies).toEqual([bodiless.versionId]);
    expect(summarizeFilePlan(filePlan, 20).join('\n')).toMatch(/holds no body for it/);
  });

  it('makes every other version in order when the vault lacks an old one, reports the gap, and does not claim a match', async () => {
    const file = threeVersionFile();
    const { read: _, ...bodiless } = file.versions[1]!;
    const { plan, restore, verify, state } = setting({
      ...file,
      versions: [file.versions[0]!, bodiless, file.versions[2]!],
    });
    const filePlan = await plan();
    expect(summarizeFilePlan(filePlan, 20).join('\n')).toMatch(
      new RegExp(
        `version ${bodiless.versionId}: the vault holds no body for it, so the file is made without it`,
      ),
    );
    const outcome = await restore(filePlan);
    expect(state()[0]?.versions).toEqual([
      ['1', md5('one'), null],
      ['2', md5('three'), 'draft 3'],
    ]);
    expect(state()[0]?.links).toHaveLength(4);
    expect(outcome).toMatchObject({ restored: 0, versions: 2, links: 3 });
    expect(outcome.failures).toEqual([
      {
        fileId: DOC,
        itemId: bodiless.versionId,
        errors: [expect.objectContaining({ statusCode: 'NOT_IN_SNAPSHOT' })],
      },
    ]);
    expect((await verify(filePlan)).map((p) => p.problem)).toEqual([
      expect.stringMatching(/holds 2 version\(s\); the snapshot holds 3/),
      expect.stringMatching(/no body for version 2, so the file was made without it/),
    ]);
  });

  it('makes the latest version when the vault lacks the first', async () => {
    const file = threeVersionFile();
    const { read: _, ...bodiless } = file.versions[0]!;
    const { plan, restore, state } = setting({
      ...file,
      versions: [bodiless, file.versions[1]!, file.versions[2]!],
    });
    const outcome = await restore(await plan());
    expect(state()[0]?.versions.map((v) => v[1])).toEqual([md5('two'), md5('three')]);
    expect(state()[0]?.links).toHaveLength(4);
    expect(outcome.failures.map((f) => f.itemId)).toEqual([bodiless.versionId]);
  });
});
