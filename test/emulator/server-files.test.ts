import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.ts';
import { connect, raw, start } from './server-support.ts';

type Rec = Record<string, unknown>;

// Files as Salesforce keeps them: a ContentDocument, its ContentVersions, and the ContentDocumentLinks
// that share it. Sources: Object Reference, "ContentVersion", "ContentDocument", "ContentDocumentLink".
describe('the emulator keeps files as documents with versions and links', () => {
  let emulator: RunningEmulator;
  let conn: ReturnType<typeof connect>;
  let userId: string;
  beforeAll(async () => {
    emulator = await start();
    conn = connect(emulator);
    userId = ((await raw(emulator, '/services/oauth2/userinfo').then((r) => r.json())) as { user_id: string })
      .user_id;
  });
  afterAll(async () => emulator.stop());

  const create = async (object: string, values: Rec): Promise<string> => {
    const result = (await conn.sobject(object).create(values)) as { id: string; success: boolean };
    expect(result.success).toBe(true);
    return result.id;
  };
  const createAnswer = (object: string, values: Rec) =>
    raw(emulator, `/services/data/v62.0/sobjects/${object}`, {
      method: 'POST',
      body: JSON.stringify(values),
    });
  const query = async (soql: string): Promise<Rec[]> => (await conn.query<Rec>(soql)).records;
  const queryAll = async (soql: string): Promise<Rec[]> =>
    (
      (await raw(emulator, `/services/data/v62.0/queryAll?q=${encodeURIComponent(soql)}`).then((r) =>
        r.json(),
      )) as {
        records: Rec[];
      }
    ).records;
  const body = (text: string) => Buffer.from(text).toString('base64');
  const links = (doc: string) =>
    query(
      `SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId = '${doc}'`,
    );
  const newFile = async (firstPublishLocationId?: string) => {
    const v1 = await create('ContentVersion', {
      Title: 'Plan',
      PathOnClient: 'plan.txt',
      VersionData: body('one'),
      ...(firstPublishLocationId ? { FirstPublishLocationId: firstPublishLocationId } : {}),
    });
    const [row] = await query(`SELECT ContentDocumentId FROM ContentVersion WHERE Id = '${v1}'`);
    return { v1, doc: row!.ContentDocumentId as string };
  };

  it('creates a document with the owner link and a link to the first publish location on a first version', async () => {
    const account = await create('Account', { Name: 'Files A' });
    const { v1, doc } = await newFile(account);
    const [document] = await query(
      `SELECT OwnerId, LatestPublishedVersionId FROM ContentDocument WHERE Id = '${doc}'`,
    );
    expect(document).toMatchObject({ OwnerId: userId, LatestPublishedVersionId: v1 });
    const shares = (await links(doc)).map((l) => [l.LinkedEntityId, l.ShareType, l.Visibility]);
    expect(shares.sort()).toEqual(
      [
        [userId, 'I', 'AllUsers'],
        [account, 'V', 'AllUsers'],
      ].sort(),
    );
    const alone = await newFile();
    expect((await links(alone.doc)).map((l) => l.LinkedEntityId)).toEqual([userId]);
  });

  it('adds a version to the document named by ContentDocumentId: the number grows, IsLatest and LatestPublishedVersionId move', async () => {
    const { v1, doc } = await newFile();
    const v2 = await create('ContentVersion', {
      ContentDocumentId: doc,
      Title: 'Plan',
      PathOnClient: 'plan.txt',
      VersionData: body('two'),
      ReasonForChange: 'second draft',
    });
    const versions = await query(
      `SELECT Id, VersionNumber, IsLatest, Checksum, ReasonForChange FROM ContentVersion WHERE ContentDocumentId = '${doc}'`,
    );
    const byId = new Map(versions.map((v) => [v.Id, v]));
    expect(byId.get(v1)).toMatchObject({ VersionNumber: '1', IsLatest: false });
    expect(byId.get(v2)).toMatchObject({
      VersionNumber: '2',
      IsLatest: true,
      ReasonForChange: 'second draft',
      Checksum: createHash('md5').update('two').digest('hex'),
    });
    const [document] = await query(
      `SELECT LatestPublishedVersionId FROM ContentDocument WHERE Id = '${doc}'`,
    );
    expect(document!.LatestPublishedVersionId).toBe(v2);
    // A new version makes no new link.
    expect(await links(doc)).toHaveLength(1);
  });

  it('links a document with the given ShareType and Visibility, deletes a link, and refuses a second link to the same entity', async () => {
    const { doc } = await newFile();
    const contact = await create('Contact', { LastName: 'Linked' });
    const link = await create('ContentDocumentLink', {
      ContentDocumentId: doc,
      LinkedEntityId: contact,
      ShareType: 'C',
      Visibility: 'InternalUsers',
    });
    expect((await links(doc)).find((l) => l.LinkedEntityId === contact)).toMatchObject({
      ShareType: 'C',
      Visibility: 'InternalUsers',
    });
    const again = await createAnswer('ContentDocumentLink', {
      ContentDocumentId: doc,
      LinkedEntityId: contact,
      ShareType: 'V',
    });
    expect(again.status).toBe(400);
    expect(again.json()).toEqual([
      expect.objectContaining({
        errorCode: 'DUPLICATE_VALUE',
        message: expect.stringContaining('is already linked with the entity'),
        fields: ['LinkedEntityId'],
      }),
    ]);
    const badShare = await createAnswer('ContentDocumentLink', {
      ContentDocumentId: doc,
      LinkedEntityId: await create('Account', { Name: 'Other' }),
      ShareType: 'X',
    });
    expect(badShare.status).toBe(400);
    const removed = (await conn.sobject('ContentDocumentLink').destroy(link)) as { success: boolean };
    expect(removed.success).toBe(true);
    expect((await links(doc)).map((l) => l.LinkedEntityId)).toEqual([userId]);
  });

  it("refuses to delete the owner's link of a document", async () => {
    const { doc } = await newFile();
    const [owner] = await query(
      `SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId = '${doc}' AND LinkedEntityId = '${userId}'`,
    );
    const answer = await raw(emulator, `/services/data/v62.0/sobjects/ContentDocumentLink/${owner!.Id}`, {
      method: 'DELETE',
    });
    expect(answer.status).toBe(400);
    expect(answer.json()).toEqual([expect.objectContaining({ errorCode: 'FIELD_INTEGRITY_EXCEPTION' })]);
    expect(await links(doc)).toHaveLength(1);
  });

  it('moves a deleted document to the recycle bin with its versions and links, and undelete brings them all back', async () => {
    const account = await create('Account', { Name: 'Files B' });
    const { v1, doc } = await newFile(account);
    const v2 = await create('ContentVersion', {
      ContentDocumentId: doc,
      Title: 'Plan',
      PathOnClient: 'plan.txt',
      VersionData: body('two'),
    });
    const before = (await links(doc)).length;
    expect(((await conn.sobject('ContentDocument').destroy(doc)) as { success: boolean }).success).toBe(true);
    expect(await query(`SELECT Id FROM ContentVersion WHERE ContentDocumentId = '${doc}'`)).toEqual([]);
    expect(await links(doc)).toEqual([]);
    const binned = await queryAll(
      `SELECT Id, IsDeleted FROM ContentVersion WHERE ContentDocumentId = '${doc}'`,
    );
    expect(binned.map((v) => [v.Id, v.IsDeleted]).sort()).toEqual(
      [
        [v1, true],
        [v2, true],
      ].sort(),
    );
    // Undelete through SOAP, as the restore does.
    const [undone] = await conn.soap.undelete([doc]);
    expect(undone).toMatchObject({ success: true });
    const versions = await query(
      `SELECT Id, VersionNumber FROM ContentVersion WHERE ContentDocumentId = '${doc}'`,
    );
    expect(versions.map((v) => [v.Id, v.VersionNumber]).sort()).toEqual(
      [
        [v1, '1'],
        [v2, '2'],
      ].sort(),
    );
    expect(await links(doc)).toHaveLength(before);
  });

  it('removes for good the links of a binned document to a record emptied from the recycle bin, so undelete brings back no link to it', async () => {
    const { doc } = await newFile();
    const contact = await create('Contact', { LastName: 'Gone' });
    await create('ContentDocumentLink', { ContentDocumentId: doc, LinkedEntityId: contact, ShareType: 'V' });
    expect(((await conn.sobject('ContentDocument').destroy(doc)) as { success: boolean }).success).toBe(true);
    expect(((await conn.sobject('Contact').destroy(contact)) as { success: boolean }).success).toBe(true);
    expect(emulator.org.emptyRecycleBin([contact])[0]?.success).toBe(true);
    const [undone] = await conn.soap.undelete([doc]);
    expect(undone).toMatchObject({ success: true });
    expect((await links(doc)).map((l) => l.LinkedEntityId)).toEqual([userId]);
  });
});
