import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { VaultSnapshotSource } from '../../lambdas/core/restore/snapshot-view.ts';
import { api, backup, freshStoreDir, hardDelete, ids, restore, softDelete } from './e2e-support.ts';

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

const BODIES = ['first draft\n', 'second draft, longer\n', 'third and final draft\n'];
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const OBJECTS = ['Account', 'Contact', 'Opportunity', 'ContentVersion'];

interface Version {
  Id: string;
  VersionNumber: string;
  Checksum: string;
  ReasonForChange: string | null;
}

async function query<T>(e: RunningEmulator, soql: string): Promise<T[]> {
  return (await api<{ records: T[] }>(e, 'GET', `/query?q=${encodeURIComponent(soql)}`)).records;
}

async function versionsOf(e: RunningEmulator, doc: string): Promise<Version[]> {
  const rows = await query<Version>(
    e,
    `SELECT Id, VersionNumber, Checksum, ReasonForChange FROM ContentVersion WHERE ContentDocumentId = '${doc}'`,
  );
  return rows.sort((a, b) => Number(a.VersionNumber) - Number(b.VersionNumber));
}

async function bytesOf(e: RunningEmulator, versionId: string): Promise<string> {
  const answer = await fetch(
    `${e.instanceUrl}/services/data/v62.0/sobjects/ContentVersion/${versionId}/VersionData`,
    {
      headers: { authorization: `Bearer ${e.accessToken}` },
    },
  );
  return Buffer.from(await answer.arrayBuffer()).toString();
}

async function linksOf(e: RunningEmulator, doc: string): Promise<string[]> {
  const rows = await query<{ LinkedEntityId: string; ShareType: string; Visibility: string }>(
    e,
    `SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId = '${doc}'`,
  );
  return rows.map((l) => `${l.LinkedEntityId.slice(0, 15)} ${l.ShareType} ${l.Visibility}`).sort();
}

/**
 * An org with one file of three versions shared with an Account (first publish location), a Contact
 * (ShareType C) and an Opportunity (Visibility InternalUsers), backed up in full with two versions
 * and the first two links, then incrementally with the third version and the Opportunity's link.
 */
async function fileBackedUp() {
  emu = await startEmulator({ port: 0 });
  const e = emu;
  const { user_id: owner } = await fetch(`${e.instanceUrl}/services/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${e.accessToken}` },
  }).then((r) => r.json() as Promise<{ user_id: string }>);
  const account = (await api<{ id: string }>(e, 'POST', '/sobjects/Account', { Name: 'Files Inc' })).id;
  const contact = (
    await api<{ id: string }>(e, 'POST', '/sobjects/Contact', { LastName: 'Reader', AccountId: account })
  ).id;
  const opportunity = (
    await api<{ id: string }>(e, 'POST', '/sobjects/Opportunity', {
      Name: 'Files deal',
      StageName: 'Prospecting',
      CloseDate: '2026-12-31',
      AccountId: account,
    })
  ).id;
  const addVersion = async (n: number, doc?: string) =>
    (
      await api<{ id: string }>(e, 'POST', '/sobjects/ContentVersion', {
        Title: 'Contract',
        PathOnClient: 'contract.txt',
        VersionData: Buffer.from(BODIES[n]!).toString('base64'),
        ...(doc
          ? { ContentDocumentId: doc, ReasonForChange: `revision ${n + 1}` }
          : { FirstPublishLocationId: account }),
      })
    ).id;
  const v1 = await addVersion(0);
  const doc = (await api<{ ContentDocumentId: string }>(e, 'GET', `/sobjects/ContentVersion/${v1}`))
    .ContentDocumentId;
  await addVersion(1, doc);
  await api(e, 'POST', '/sobjects/ContentDocumentLink', {
    ContentDocumentId: doc,
    LinkedEntityId: contact,
    ShareType: 'C',
    Visibility: 'AllUsers',
  });
  const dir = freshStoreDir();
  expect((await backup(e, dir, 'full')).summary.status).toBe('complete');
  await new Promise((r) => setTimeout(r, 1100));
  await addVersion(2, doc);
  await api(e, 'POST', '/sobjects/ContentDocumentLink', {
    ContentDocumentId: doc,
    LinkedEntityId: opportunity,
    ShareType: 'V',
    Visibility: 'InternalUsers',
  });
  expect((await backup(e, dir, 'incremental')).summary.status).toBe('complete');
  return { e, dir, doc, owner, account, contact, opportunity };
}

/** The vault file holding a body, found by its SHA-256 under the store directory. */
function vaultBody(dir: string, text: string): string {
  const want = sha256(text);
  const walk = (d: string): string | undefined => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        const found = walk(path);
        if (found) return found;
      } else if (name === want && path.includes('files/sha256')) return path;
    }
    return undefined;
  };
  const path = walk(dir);
  if (!path) throw new Error(`the vault under ${dir} holds no body with SHA-256 ${want}`);
  return path;
}

describe('a file comes back from a restore whole', () => {
  it("holds only the files a restore asks for, each exactly as the snapshot's whole list has it", async () => {
    // GIVEN the three-version file, and two more: one first published to another account, one
    // published to it and shared with the Contact only by a link
    const { e, dir, doc, account, contact } = await fileBackedUp();
    const other = (await api<{ id: string }>(e, 'POST', '/sobjects/Account', { Name: 'Other Ltd' })).id;
    const publish = async (title: string, to: string) => {
      const v = (
        await api<{ id: string }>(e, 'POST', '/sobjects/ContentVersion', {
          Title: title,
          PathOnClient: `${title}.txt`,
          VersionData: Buffer.from(`${title}\n`).toString('base64'),
          FirstPublishLocationId: to,
        })
      ).id;
      return (await api<{ ContentDocumentId: string }>(e, 'GET', `/sobjects/ContentVersion/${v}`))
        .ContentDocumentId;
    };
    const elsewhere = await publish('elsewhere', other);
    const shared = await publish('shared', other);
    await api(e, 'POST', '/sobjects/ContentDocumentLink', {
      ContentDocumentId: shared,
      LinkedEntityId: contact,
      ShareType: 'V',
      Visibility: 'AllUsers',
    });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await backup(e, dir, 'incremental')).summary.status).toBe('complete');
    const view = await new VaultSnapshotSource(new LocalDirectoryStore(dir), 'sample').resolve('', {
      kind: 'latest',
    });
    const all = await view.files();
    const docs = (files: readonly { contentDocumentId: string | null }[]) =>
      files.map((f) => f.contentDocumentId!.slice(0, 15)).sort();
    const whole = (id: string) => all.find((f) => f.contentDocumentId?.slice(0, 15) === id.slice(0, 15));
    expect(docs(all)).toEqual([doc, elsewhere, shared].map((d) => d.slice(0, 15)).sort());
    // WHEN a restore of the Contact asks for the files linked to it, and its execution for a document
    const linked = await view.files({ linkedTo: [contact] });
    const named = await view.files({ documents: [elsewhere] });
    // THEN it holds those documents only (by first publish location or by link), each as in the whole list
    expect(docs(linked)).toEqual([doc, shared].map((d) => d.slice(0, 15)).sort());
    for (const f of [...linked, ...named]) {
      const from = whole(f.contentDocumentId!)!;
      expect({ ...f, versions: f.versions.map(({ read: _, ...v }) => v) }).toEqual({
        ...from,
        versions: from.versions.map(({ read: _, ...v }) => v),
      });
      for (const [i, v] of f.versions.entries())
        expect(await v.read?.()).toEqual(await from.versions[i]!.read?.());
    }
    expect(docs(named)).toEqual([elsewhere.slice(0, 15)]);
    expect(docs(await view.files({ linkedTo: [account] }))).toEqual([doc.slice(0, 15)]);
    expect(await view.files({ linkedTo: ['001000000000999'] })).toEqual([]);
  }, 120_000);

  it('makes a purged file again with its three versions in order and its links to the records, one of them re-inserted', async () => {
    const { e, dir, doc, owner, account, contact, opportunity } = await fileBackedUp();
    await hardDelete(e, [doc]);
    await hardDelete(e, [contact]);
    expect(await ids(e, 'ContentVersion', "Title = 'Contract'")).toEqual([]);

    const dry = await restore(e, dir, { objects: OBJECTS });
    expect(dry.summary.status).toBe('SUCCEEDED');
    expect(dry.summary.message).toContain('Files: 0 to undelete, 1 to make again, 0 still in the org.');
    expect(dry.summary.message).toContain(`file ${doc}: make again: 3 version(s) in order, 3 link(s)`);
    expect(dry.summary.message).not.toContain('cannot be made');
    expect(await ids(e, 'ContentVersion', "Title = 'Contract'")).toEqual([]);

    const done = await restore(e, dir, { objects: OBJECTS, mode: 'restore-deleted', confirmOrgId: e.orgId });
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    expect(done.summary.message).toContain('Verified: the restored scope matches');
    // The real run's plan kept the file's detail, which its files step and check read; the dry run's did not.
    const planned = (planKey: string | null) =>
      JSON.parse(readFileSync(join(dir, planKey!.replace(/plan\.json$/, 'files.json')), 'utf8')) as {
        details?: unknown;
      };
    expect(planned(done.summary.planKey).details).toEqual({ records: 1, perRecord: 200 });
    expect(planned(dry.summary.planKey).details).toBeUndefined();
    const [newContact, ...others] = await ids(e, 'Contact', "LastName = 'Reader'");
    expect(others).toEqual([]);
    expect(newContact!.slice(0, 15)).not.toBe(contact.slice(0, 15));
    const [latest] = await ids(e, 'ContentVersion', "Title = 'Contract'");
    const newDoc = (await api<{ ContentDocumentId: string }>(e, 'GET', `/sobjects/ContentVersion/${latest}`))
      .ContentDocumentId;
    expect(newDoc.slice(0, 15)).not.toBe(doc.slice(0, 15));
    const versions = await versionsOf(e, newDoc);
    expect(versions.map((v) => [v.VersionNumber, v.Checksum, v.ReasonForChange])).toEqual([
      ['1', md5(BODIES[0]!), null],
      ['2', md5(BODIES[1]!), 'revision 2'],
      ['3', md5(BODIES[2]!), 'revision 3'],
    ]);
    for (const [i, v] of versions.entries()) expect(await bytesOf(e, v.Id)).toBe(BODIES[i]);
    expect(await linksOf(e, newDoc)).toEqual(
      [
        `${owner.slice(0, 15)} I AllUsers`,
        `${account.slice(0, 15)} V AllUsers`,
        `${newContact!.slice(0, 15)} C AllUsers`,
        `${opportunity.slice(0, 15)} V InternalUsers`,
      ].sort(),
    );

    // A second run finds the file made again and makes nothing twice.
    const again = await restore(e, dir, { objects: OBJECTS, mode: 'restore-deleted', confirmOrgId: e.orgId });
    expect(again.summary.status, again.summary.message).toBe('SUCCEEDED');
    expect(again.summary.message).toContain('Verified: the restored scope matches');
    expect(await ids(e, 'ContentDocument')).toEqual([newDoc]);
    expect(await versionsOf(e, newDoc)).toEqual(versions);
    expect(await linksOf(e, newDoc)).toHaveLength(4);
  }, 180_000);

  it('undeletes a file still in the recycle bin, keeping its ids, with its versions and links, and links it again to a record inserted under a new id', async () => {
    const { e, dir, doc, contact } = await fileBackedUp();
    const versions = await versionsOf(e, doc);
    const links = await linksOf(e, doc);
    await softDelete(e, [doc]);
    await hardDelete(e, [contact]);
    expect(await versionsOf(e, doc)).toEqual([]);

    const dry = await restore(e, dir, { objects: OBJECTS });
    expect(dry.summary.message).toContain(
      `file ${doc}: undelete (its 3 version(s) and 3 link(s) come back with it)`,
    );
    const done = await restore(e, dir, { objects: OBJECTS, mode: 'restore-deleted', confirmOrgId: e.orgId });
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    expect(done.summary.message).toContain('Verified: the restored scope matches');
    expect(await versionsOf(e, doc)).toEqual(versions);
    const [newContact] = await ids(e, 'Contact', "LastName = 'Reader'");
    expect(newContact!.slice(0, 15)).not.toBe(contact.slice(0, 15));
    expect(await linksOf(e, doc)).toEqual(
      links.map((l) => l.replace(contact.slice(0, 15), newContact!.slice(0, 15))).sort(),
    );
  }, 180_000);

  it('links a file still in the org again to a record of the scope re-inserted under a new id, and verifies the link', async () => {
    const { e, dir, doc, contact } = await fileBackedUp();
    const links = await linksOf(e, doc);
    await hardDelete(e, [contact]);
    expect(await linksOf(e, doc)).toHaveLength(links.length - 1);

    const dry = await restore(e, dir, { objects: ['Account', 'Contact', 'Opportunity'] });
    expect(dry.summary.message).toContain('1 still in the org (1 of them to link again');
    expect(dry.summary.message).toContain(`file ${doc}: still in the org: link again to 1 record(s)`);
    const done = await restore(e, dir, {
      objects: ['Account', 'Contact', 'Opportunity'],
      mode: 'restore-deleted',
      confirmOrgId: e.orgId,
    });
    expect(done.summary.status, done.summary.message).toBe('SUCCEEDED');
    expect(done.summary.message).toContain('Verified: the restored scope matches');
    const [newContact] = await ids(e, 'Contact', "LastName = 'Reader'");
    expect(newContact!.slice(0, 15)).not.toBe(contact.slice(0, 15));
    expect(await linksOf(e, doc)).toEqual(
      links.map((l) => l.replace(contact.slice(0, 15), newContact!.slice(0, 15))).sort(),
    );

    // A second run makes no link twice.
    const again = await restore(e, dir, {
      objects: ['Account', 'Contact', 'Opportunity'],
      mode: 'restore-deleted',
      confirmOrgId: e.orgId,
    });
    expect(again.summary.status, again.summary.message).toBe('SUCCEEDED');
    expect(await linksOf(e, doc)).toHaveLength(links.length);
  }, 180_000);

  it('reports a version whose body was tampered with in the vault and does not claim a match', async () => {
    const { e, dir, doc } = await fileBackedUp();
    await hardDelete(e, [doc]);
    writeFileSync(vaultBody(dir, BODIES[1]!), 'not what was backed up\n');

    const done = await restore(e, dir, { objects: OBJECTS, mode: 'restore-deleted', confirmOrgId: e.orgId });
    expect(done.summary.message).not.toContain('Verified: the restored scope matches');
    expect(done.summary.message).toContain(`file ${doc}: document`);
    expect(done.summary.message).toMatch(/holds 1 version\(s\); the snapshot holds 3/);
    expect(done.summary.message).toMatch(/version 2 is missing from document/);
  }, 180_000);

  it('checks many restored files a group at a time, over several invocations, and keeps every difference found', async () => {
    emu = await startEmulator({ port: 0 });
    const e = emu;
    const account = (await api<{ id: string }>(e, 'POST', '/sobjects/Account', { Name: 'Many Files' })).id;
    const body = (n: number) => `file number ${n}\n`;
    const docs: string[] = [];
    for (let n = 0; n < 130; n++) {
      const version = (
        await api<{ id: string }>(e, 'POST', '/sobjects/ContentVersion', {
          Title: `Note ${n}`,
          PathOnClient: `note-${n}.txt`,
          VersionData: Buffer.from(body(n)).toString('base64'),
          FirstPublishLocationId: account,
        })
      ).id;
      docs.push(
        (await api<{ ContentDocumentId: string }>(e, 'GET', `/sobjects/ContentVersion/${version}`))
          .ContentDocumentId,
      );
    }
    const dir = freshStoreDir();
    expect((await backup(e, dir, 'full')).summary.status).toBe('complete');
    await hardDelete(e, docs);
    // Three bodies the vault no longer holds as backed up: those files cannot be made again.
    const tampered = [3, 64, 127];
    for (const n of tampered) writeFileSync(vaultBody(dir, body(n)), 'not what was backed up\n');

    const checks: { done: boolean; cursor: number; problems: number }[] = [];
    const done = await restore(
      e,
      dir,
      { objects: ['ContentVersion'], mode: 'restore-deleted', confirmOrgId: e.orgId },
      {
        // Each invocation of the verify function has time for one group of files only.
        lambdaTimeoutMs: (fn) => (fn.handler === 'verify' ? 1 : fn.timeoutSeconds * 1000),
        onTask: (step) => {
          if (step.state.endsWith('VerifyFiles') && step.phase === 'after')
            checks.push(step.output as (typeof checks)[0]);
        },
      },
    );
    expect(done.summary.status).toBe('FAILED');
    expect(checks.map((c) => [c.done, c.cursor])).toEqual([
      [false, 100],
      [true, 130],
    ]);
    expect(checks.reduce((sum, c) => sum + c.problems, 0)).toBe(tampered.length);
    // Every difference is kept and named, whichever invocation found it.
    const run = readdirSync(join(dir, 'restores', 'sample'), { recursive: true })
      .map(String)
      .find((p) => p.endsWith('file-problems.json'));
    expect(run).toBeDefined();
    const problems = JSON.parse(readFileSync(join(dir, 'restores', 'sample', run!), 'utf8')) as {
      fileId: string;
      problem: string;
    }[];
    expect(problems.map((p) => p.fileId).sort()).toEqual(tampered.map((n) => docs[n]!).sort());
    expect(done.summary.message).toContain(`${tampered.length} difference(s) in the restored files`);
    // The others came back.
    expect(await ids(e, 'ContentDocument')).toHaveLength(130 - tampered.length);
  }, 300_000);

  it('names a version whose body is missing from the vault in the plan, and makes the file from the others', async () => {
    const { e, dir, doc } = await fileBackedUp();
    await hardDelete(e, [doc]);
    // A backup that kept no body for a version: its manifest entry is gone with it.
    const manifests: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const path = join(d, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name === 'manifest.json') manifests.push(path);
      }
    };
    walk(dir);
    const second = sha256(BODIES[1]!);
    let removed = 0;
    // The lists naming the body lose its entry, and each manifest describes its lists again.
    for (const path of manifests) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as {
        fileLists: { key: string; sha256: string; bytes: number; count: number }[];
      };
      for (const list of manifest.fileLists) {
        const listPath = join(dir, list.key);
        const record = JSON.parse(readFileSync(listPath, 'utf8')) as unknown;
        const entries = (Array.isArray(record) ? record : (record as { files: unknown[] }).files) as {
          sha256: string;
        }[];
        const kept = entries.filter((f) => f.sha256 !== second);
        if (kept.length === entries.length) continue;
        const text = JSON.stringify(Array.isArray(record) ? kept : { ...(record as object), files: kept });
        writeFileSync(listPath, text);
        Object.assign(list, { sha256: sha256(text), bytes: Buffer.byteLength(text), count: kept.length });
        removed += 1;
      }
      writeFileSync(path, JSON.stringify(manifest));
    }
    expect(removed).toBeGreaterThan(0);
    const dry = await restore(e, dir, { objects: OBJECTS });
    expect(dry.summary.message).toMatch(
      /version \w+: the vault holds no body for it, so the file is made without it/,
    );
    const done = await restore(e, dir, { objects: OBJECTS, mode: 'restore-deleted', confirmOrgId: e.orgId });
    expect(done.summary.message).not.toContain('Verified: the restored scope matches');
    expect(done.summary.message).toMatch(/holds 2 version\(s\); the snapshot holds 3/);
    expect(done.summary.message).toMatch(/no body for version 2, so the file was made without it/);
  }, 180_000);
});
