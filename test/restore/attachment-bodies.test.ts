import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BODY_BYTES_PER_BATCH, restoreObject } from '../../lambdas/core/restore/execute.ts';
import { MAX_FILE_BYTES } from '../../lambdas/core/restore/files.ts';
import { IdMap, type IntentFile, reconcileIntents } from '../../lambdas/core/restore/id-map.ts';
import { restoreKeys } from '../../lambdas/core/restore/keys.ts';
import type { BodyRef, ObjectInfo } from '../../lambdas/core/restore/model.ts';
import type { ObjectPlan, RestorePlan } from '../../lambdas/core/restore/plan.ts';
import type { RestoreDeps } from '../../lambdas/core/restore/workflow.ts';
import {
  FakeOrg,
  FakeSnapshot,
  FakeSnapshots,
  field,
  MemoryStore,
  snapshotFields,
  systemFields,
} from './fakes.ts';
import { ACCOUNT, runRestore } from './scenario.ts';

const ORG_ID = '00D000000000001AAA';
const CONFIRM = { confirmOrgId: ORG_ID };
const ATTACHMENT: ObjectInfo = {
  name: 'Attachment',
  keyPrefix: '00P',
  createable: true,
  updateable: true,
  undeletable: true,
  fields: [
    ...systemFields(),
    field('ParentId', 'reference', { referenceTo: ['Account'], updateable: false }),
    field('Name'),
    field('Body', 'base64'),
    field('BodyLength', 'int', { createable: false, updateable: false }),
  ],
};
const ACCOUNT_ID = '001000000000001AAA';
const attachmentId = (n: number) => `00P00000000${String(n).padStart(4, '0')}AAA`;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * An org whose attachments are all gone for good, and a snapshot that kept their bodies in the
 * vault (the store), each named by key, digest and size.
 */
function attachmentsWorld(bodies: readonly Uint8Array[], names = bodies.map((_, i) => `page-${i}.bin`)) {
  const org = new FakeOrg([ACCOUNT, ATTACHMENT]);
  org.seed('Account', { Id: ACCOUNT_ID, IsDeleted: 'false', Name: 'Holder' });
  const rows = bodies.map((b, i) => ({
    Id: attachmentId(i + 1),
    IsDeleted: 'false',
    ParentId: ACCOUNT_ID,
    Name: names[i]!,
    BodyLength: String(b.length),
  }));
  const snapshot = new FakeSnapshot('20260101T000000Z-abcdef', org.orgId, '2026-01-01T00:00:00.000Z', {
    Account: {
      fields: snapshotFields(ACCOUNT),
      rows: [{ Id: ACCOUNT_ID, IsDeleted: 'false', Name: 'Holder' }],
    },
    Attachment: {
      fields: snapshotFields(ATTACHMENT).filter((f) => f.name !== 'Body'),
      rows,
    },
  });
  const store = new MemoryStore();
  bodies.forEach((b, i) => {
    const key = `orgs/acme-prod/files/sha256/${sha256(b).slice(0, 2)}/${sha256(b)}`;
    store.objects.set(key, b);
    snapshot.bodyRefs.set(`Attachment:${attachmentId(i + 1).slice(0, 15)}`, {
      key,
      sha256: sha256(b),
      bytes: b.length,
    });
  });
  const deps: RestoreDeps = {
    orgName: 'acme-prod',
    store,
    org,
    snapshots: new FakeSnapshots([snapshot]),
    lease: { sleep: async () => {} },
  };
  return { org, store, deps, snapshot };
}

/** The body each restored attachment holds, by its name. */
function restoredBodies(org: FakeOrg): Map<string, Buffer> {
  return new Map(org.live('Attachment').map((r) => [r.Name as string, Buffer.from(r.Body ?? '', 'base64')]));
}

const jsonUnder = (store: MemoryStore, part: string) =>
  [...store.objects.entries()]
    .filter(([k]) => k.includes(part))
    .map(([k, v]) => [k, JSON.parse(Buffer.from(v).toString())] as const);

describe('attachment bodies in a restore', () => {
  it('names each body in the plan, reads it in the batch that sends it, and cuts batches by body bytes', async () => {
    // Four bodies of 12 MB: two fit in a batch's 28 MB, three do not.
    const bodies = [1, 2, 3, 4].map((n) => Buffer.alloc(12_000_000, n));
    const { org, store, deps } = attachmentsWorld(bodies);
    const { plan, verify } = await runRestore(deps, { objects: ['Attachment'], mode: 'full', ...CONFIRM });
    expect(plan.totals.insert).toBe(4);
    expect(verify?.matches).toBe(true);

    const [[, objectPlan]] = jsonUnder(store, '/plan/Attachment.json') as [[string, ObjectPlan]];
    expect(Buffer.byteLength(JSON.stringify(objectPlan))).toBeLessThan(4_000);
    expect(objectPlan.insert.map((r) => r.bodies?.Body?.bytes)).toEqual([12e6, 12e6, 12e6, 12e6]);
    expect(objectPlan.insert.every((r) => !('Body' in r.values))).toBe(true);

    const outcomes = jsonUnder(store, '/outcomes/Attachment/main-').map(([, o]) => o.rows);
    expect(outcomes).toEqual([2, 2]);
    expect(org.calls.filter((c) => c.startsWith('create Attachment'))).toEqual([
      'create Attachment 2',
      'create Attachment 2',
    ]);
    // The intents name the bodies by digest, never by their bytes.
    const intents = jsonUnder(store, '/intents/Attachment/').map(([, i]) => i as IntentFile);
    expect(intents).toHaveLength(2);
    for (const intent of intents) {
      expect(intent.types).not.toHaveProperty('Body');
      for (const row of intent.rows) {
        expect(row.values).not.toHaveProperty('Body');
        expect(row.bodies?.Body?.bytes).toBe(12e6);
      }
    }
    const back = restoredBodies(org);
    for (const [i, b] of bodies.entries()) expect(back.get(`page-${i}.bin`)?.equals(b)).toBe(true);
    expect(BODY_BYTES_PER_BATCH).toBe(MAX_FILE_BYTES);
  });

  it('fails alone a row whose body the vault lost, changed, or holds too large to send, and inserts the rest', async () => {
    const bodies = ['kept', 'lost', 'changed', 'huge', 'also kept'].map((t) => Buffer.from(t));
    const { org, store, deps, snapshot } = attachmentsWorld(bodies);
    const refOf = (n: number) => snapshot.bodyRefs.get(`Attachment:${attachmentId(n).slice(0, 15)}`)!;
    store.objects.delete(refOf(2).key);
    store.objects.set(refOf(3).key, Buffer.from('tampered'));
    const huge: BodyRef = {
      ...refOf(4),
      key: 'orgs/acme-prod/files/sha256/ff/never-read',
      bytes: MAX_FILE_BYTES + 1,
    };
    snapshot.bodyRefs.set(`Attachment:${attachmentId(4).slice(0, 15)}`, huge);

    const { verify } = await runRestore(deps, { objects: ['Attachment'], mode: 'full', ...CONFIRM });
    expect(verify?.matches).toBe(false);
    expect([...restoredBodies(org).keys()].sort()).toEqual(['page-0.bin', 'page-4.bin']);
    const failures = jsonUnder(store, '/outcomes/Attachment/main-').flatMap(
      ([, o]) => o.failures as { oldId: string; errors: { statusCode: string; message: string }[] }[],
    );
    const byRow = new Map(failures.map((f) => [f.oldId, f.errors[0]!]));
    expect(byRow.get(attachmentId(2))?.statusCode).toBe('BODY_MISSING');
    expect(byRow.get(attachmentId(2))?.message).toContain(refOf(2).key);
    expect(byRow.get(attachmentId(3))?.statusCode).toBe('BODY_CORRUPT');
    expect(byRow.get(attachmentId(4))?.statusCode).toBe('FILE_TOO_LARGE');
    expect(byRow.get(attachmentId(4))?.message).toMatch(/28 MB.*Upload it by hand from the vault/);
    expect(byRow.size).toBe(3);
    // The rows that failed were never sent: the huge one has a batch of its own, which sends
    // nothing; the batches beside it send only the rows whose bodies were whole.
    expect(org.calls.filter((c) => c.startsWith('create Attachment'))).toEqual([
      'create Attachment 1',
      'create Attachment 1',
    ]);
  });

  it('claims, after a lost answer, the attachment holding each row own body, however alike the rows', async () => {
    // Same parent, same name, same size: only the bytes tell them apart.
    const bodies = [Buffer.from('AAAA-first'), Buffer.from('BBBB-other')];
    const { org, store, deps } = attachmentsWorld(bodies, ['scan.pdf', 'scan.pdf']);
    // ...and one more like them, made by the same user before the restore, which is no one's.
    const [decoy] = await org.create('Attachment', [
      { ParentId: ACCOUNT_ID, Name: 'scan.pdf', Body: Buffer.from('CCCC-decoy').toString('base64') },
    ]);
    org.crashAfterCreate = true;
    await expect(
      runRestore(deps, { objects: ['Attachment'], mode: 'full', ...CONFIRM }, 'run-crashed'),
    ).rejects.toThrow(/simulated crash/);
    expect(org.live('Attachment')).toHaveLength(3);

    const { plan } = await runRestore(
      deps,
      { objects: ['Attachment'], mode: 'full', ...CONFIRM },
      'run-again',
    );
    expect(plan.totals.insert).toBe(0);
    expect(org.live('Attachment')).toHaveLength(3);
    const idMap = await IdMap.load(store, `restores/acme-prod/${ORG_ID}/`);
    bodies.forEach((b, i) => {
      const now = idMap.get(attachmentId(i + 1))!;
      const row = org.live('Attachment').find((r) => r.Id === now)!;
      expect(Buffer.from(row.Body ?? '', 'base64').equals(b)).toBe(true);
    });
    expect(idMap.isNewId(decoy!.id!)).toBe(false);
    // All three matched in every other field, so each body was read back, once, to tell them apart.
    expect(org.calls.filter((c) => c.startsWith('body Attachment'))).toHaveLength(3);
  });

  it('carries on a plan, and settles an intent, that hold a body as base64 as earlier versions wrote them', async () => {
    const bytes = Buffer.from('a body written inline');
    const org = new FakeOrg([ACCOUNT, ATTACHMENT]);
    const store = new MemoryStore();
    const root = `restores/acme-prod/${ORG_ID}/`;
    const plan = { runId: 'run-old', root, danglingReferences: [] } as unknown as RestorePlan;
    const objectPlan: ObjectPlan = {
      object: 'Attachment',
      level: 1,
      types: { ParentId: 'reference', Name: 'string', Body: 'base64' },
      references: { ParentId: ['Account'] },
      insertFields: ['ParentId', 'Name'],
      updateFields: ['Name'],
      deferredFields: [],
      undelete: [],
      insert: [
        {
          oldId: attachmentId(1),
          values: { ParentId: ACCOUNT_ID, Name: 'inline.txt', Body: bytes.toString('base64') },
        },
      ],
      update: [],
      skipped: [],
      unrestorable: [],
    };
    const idMap = new IdMap();
    const done = await restoreObject({
      org,
      store,
      idMap,
      plan,
      objectPlan,
      phase: 'main',
      userId: org.userId,
    });
    expect(done).toMatchObject({ done: true, succeeded: 1, failed: 0 });
    const [row] = org.live('Attachment');
    expect(Buffer.from(row!.Body ?? '', 'base64').equals(bytes)).toBe(true);
    // Such a plan's batches are cut as they were, by rows alone: three 12 MB bodies in one.
    const big = [1, 2, 3].map((n) => Buffer.alloc(12_000_000, n));
    const bigPlan: ObjectPlan = {
      ...objectPlan,
      insert: big.map((b, i) => ({
        oldId: attachmentId(10 + i),
        values: { ParentId: ACCOUNT_ID, Name: `big-${i}.bin`, Body: b.toString('base64') },
      })),
    };
    const creates = org.calls.length;
    await restoreObject({
      org,
      store,
      idMap,
      plan: { ...plan, runId: 'run-old-big' },
      objectPlan: bigPlan,
      phase: 'main',
      userId: org.userId,
    });
    expect(org.calls.slice(creates).filter((c) => c.startsWith('create'))).toEqual(['create Attachment 3']);

    // An intent of an earlier version, its body inline, whose insert went through unheard.
    const legacy: IntentFile = {
      object: 'Attachment',
      batch: 'run-old-main-00001-legacy',
      since: new Date(Date.now() - 1000).toISOString(),
      userId: org.userId,
      types: { ParentId: 'reference', Name: 'string', Body: 'base64' },
      rows: [
        {
          oldId: attachmentId(2),
          values: {
            ParentId: ACCOUNT_ID,
            Name: 'inline.txt',
            Body: Buffer.from('second').toString('base64'),
          },
        },
      ],
    };
    await store.put(restoreKeys.intent(root, 'Attachment', legacy.batch), JSON.stringify(legacy));
    const [created] = await org.create('Attachment', [
      { ParentId: ACCOUNT_ID, Name: 'inline.txt', Body: Buffer.from('second').toString('base64') },
    ]);
    expect(await reconcileIntents(store, org, root, 'Attachment', idMap)).toBe(1);
    expect(idMap.get(attachmentId(2))).toBe(created!.id);
    expect(idMap.get(attachmentId(1))).toBe(row!.Id);
  });
});
