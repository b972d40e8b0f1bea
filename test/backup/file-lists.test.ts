import { describe, expect, it } from 'vitest';
import { RetentionCatalogUnreadableError, sweepOrg } from '../../lambdas/core/retention/sweep.ts';
import {
  fileCount,
  fileListOf,
  readFileList,
  snapshotFiles,
} from '../../lambdas/core/snapshot/file-lists.ts';
import { shortCause } from '../../lambdas/core/backup/failure-cause.ts';
import { exportObject } from '../../lambdas/core/backup/export-object.ts';
import {
  backupFiles,
  planFiles,
  recordFilesFailure,
  REUSED_PER_LIST,
} from '../../lambdas/core/backup/files.ts';
import { finishBackup } from '../../lambdas/core/backup/finish.ts';
import { planBackup } from '../../lambdas/core/backup/plan.ts';
import { parseBackupSettings } from '../../lambdas/core/backup/settings.ts';
import type { BackupDeps } from '../../lambdas/core/backup/types.ts';
import {
  filesReusedKey,
  filesReusedListKey,
  filesResultKey,
  catalogKey,
  manifestKey,
} from '../../lambdas/core/snapshot/keys.ts';
import {
  parseManifest,
  type SnapshotFile,
  SnapshotCorruptError,
} from '../../lambdas/core/snapshot/manifest.ts';
import { FILE_LISTS_AT_ONCE } from '../../lambdas/core/snapshot/file-lists.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import { verifySnapshot } from '../../lambdas/core/snapshot/verifier.ts';
import { filesOf } from '../support/snapshot-files.ts';
import { orgWithFiles } from './fake-source.ts';
import { ListPerBodyStore, MemoryStore } from './memory-store.ts';
import { runCore } from './run-core.ts';

const FIRST = Date.parse('2026-11-01T02:00:00.000Z');
const at = (day: number) => new Date(FIRST + day * 86_400_000);

/** A store that changes the first byte of every file body on its way in, while `garble` holds. */
class Garbling extends MemoryStore {
  garble = true;
  override async putStream(key: string, body: AsyncIterable<Uint8Array>) {
    if (!this.garble || !key.includes('/files/sha256/')) return super.putStream(key, body);
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    bytes[0] = bytes[0]! ^ 0xff;
    return super.put(key, bytes);
  }
}

const entry = (recordId: string): SnapshotFile => ({
  object: 'ContentVersion',
  recordId,
  field: 'VersionData',
  key: `orgs/acme/files/sha256/ab/${'ab'.repeat(32)}`,
  sha256: 'ab'.repeat(32),
  bytes: 3,
  downloaded: true,
});

describe("a snapshot's file lists", () => {
  it('are named in the manifest with their checksums and counts, and the manifest holds no file entry', async () => {
    const source = orgWithFiles(at(-1), 7);
    const { store, finish } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { filesPerBatch: 3 },
      new MemoryStore(),
      () => at(0),
    );
    expect(finish).toMatchObject({ status: 'complete', files: 7, filesDownloaded: 7 });
    const id = finish.snapshotId;
    const manifest = await new SnapshotReader(store).manifest('acme', id);
    expect(manifest.formatVersion).toBe(2);
    expect(manifest.files).toEqual([]);
    expect(manifest.fileLists?.map((l) => [l.key, l.count])).toEqual([
      [filesReusedListKey('acme', id, 1), 0],
      [filesResultKey('acme', id, 1), 3],
      [filesResultKey('acme', id, 2), 3],
      [filesResultKey('acme', id, 3), 1],
    ]);
    for (const list of manifest.fileLists!)
      expect(list).toEqual(fileListOf(await store.get(list.key), list.key).list);
    expect(store.text(manifestKey('acme', id))).not.toContain('068000000000001AAA');
    expect(fileCount(manifest)).toBe(7);
    const files = await filesOf(store, manifest);
    expect(files.map((f) => f.recordId).sort()).toEqual(
      source
        .object('ContentVersion')
        .rows.map((r) => r.Id)
        .sort(),
    );
    const pit = await new SnapshotReader(store).pointInTime('acme', id);
    expect((await pit.files()).map((f) => f.recordId).sort()).toEqual(files.map((f) => f.recordId).sort());
    expect(await verifySnapshot(store, manifest)).toEqual([]);

    // A second run reuses every body: the reused list names them all, none downloaded.
    const again = await runCore(source, { org: 'acme', mode: 'full' }, { filesPerBatch: 3 }, store, () =>
      at(1),
    );
    expect(again.finish).toMatchObject({ status: 'complete', files: 7, filesDownloaded: 0 });
    const second = await new SnapshotReader(store).manifest('acme', again.finish.snapshotId);
    expect(second.fileLists?.map((l) => [l.key, l.count])).toEqual([
      [filesReusedListKey('acme', second.snapshotId, 1), 7],
    ]);
  });

  it('of more batches than are read at once are named in batch order', async () => {
    const { store, finish } = await runCore(
      orgWithFiles(at(-1), 40),
      { org: 'acme', mode: 'full' },
      { filesPerBatch: 1 },
      new MemoryStore(),
      () => at(0),
    );
    expect(finish).toMatchObject({ status: 'complete', files: 40, filesDownloaded: 40 });
    const manifest = await new SnapshotReader(store).manifest('acme', finish.snapshotId);
    expect(manifest.fileLists?.map((l) => l.key)).toEqual([
      filesReusedListKey('acme', finish.snapshotId, 1),
      ...Array.from({ length: 40 }, (_, i) => filesResultKey('acme', finish.snapshotId, i + 1)),
    ]);
    expect(manifest.fileLists?.map((l) => l.count)).toEqual([0, ...Array<number>(40).fill(1)]);
    expect((await filesOf(store, manifest)).map((f) => f.recordId).sort()).toEqual(
      Array.from({ length: 40 }, (_, i) => `068${String(i + 1).padStart(12, '0')}AAA`),
    );
  });

  it('in many lists of reused bodies, or in one as earlier versions planned them, are all named', async () => {
    const source = orgWithFiles(at(-1), REUSED_PER_LIST + 2);
    const { store } = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      { filesPerBatch: 5_000 },
      new MemoryStore(),
      () => at(0),
    );
    const again = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1));
    const id = again.finish.snapshotId;
    const manifest = await new SnapshotReader(store).manifest('acme', id);
    expect(manifest.fileLists?.map((l) => [l.key, l.count])).toEqual([
      [filesReusedListKey('acme', id, 1), REUSED_PER_LIST],
      [filesReusedListKey('acme', id, 2), 2],
    ]);
    expect(await verifySnapshot(store, manifest)).toEqual([]);

    // A run whose files step an earlier version planned, finished by this one.
    class EarlierPlan extends MemoryStore {
      override async put(key: string, body: Uint8Array | string) {
        return super.put(key.replace(/files\/reused-00001\.json$/, 'files/reused.json'), body);
      }
    }
    const small = orgWithFiles(at(-1), 3);
    const earlier = new EarlierPlan();
    await runCore(small, { org: 'acme', mode: 'full' }, {}, earlier, () => at(0));
    const old = await runCore(small, { org: 'acme', mode: 'full' }, {}, earlier, () => at(1));
    expect(old.finish).toMatchObject({ status: 'complete', files: 3, filesDownloaded: 0 });
    const oldManifest = await new SnapshotReader(earlier).manifest('acme', old.finish.snapshotId);
    expect(oldManifest.fileLists?.map((l) => [l.key, l.count])).toEqual([
      [filesReusedKey('acme', old.finish.snapshotId), 3],
    ]);
  });

  it('of more reused lists than are read at once are all named, in order', async () => {
    const source = orgWithFiles(at(-1), FILE_LISTS_AT_ONCE * 2 + 3);
    const store = new ListPerBodyStore();
    await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(0));
    const again = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1));
    expect(again.finish).toMatchObject({ status: 'complete', files: FILE_LISTS_AT_ONCE * 2 + 3 });
    const id = again.finish.snapshotId;
    const manifest = await new SnapshotReader(store).manifest('acme', id);
    // Up to the first number not written: the list numbered past the gap is not the snapshot's.
    expect(manifest.fileLists?.map((l) => l.key)).toEqual(
      Array.from({ length: FILE_LISTS_AT_ONCE * 2 + 3 }, (_, i) => filesReusedListKey('acme', id, i + 1)),
    );
    expect((await filesOf(store, manifest)).map((f) => f.recordId)).toEqual(
      source.object('ContentVersion').rows.map((r) => r.Id),
    );
  });

  it('are checked before their entries are read: a changed, shortened or missing list is named', async () => {
    const { store, finish } = await runCore(
      orgWithFiles(at(-1), 4),
      { org: 'acme', mode: 'full' },
      { filesPerBatch: 2 },
      new MemoryStore(),
      () => at(0),
    );
    const reader = new SnapshotReader(store);
    const manifest = await reader.manifest('acme', finish.snapshotId);
    const [, first, second] = manifest.fileLists!;
    const record = JSON.parse(store.text(first!.key)) as { files: SnapshotFile[] };
    // The same entries written another way: the count holds, the checksum does not.
    store.objects.set(first!.key, Buffer.from(JSON.stringify(record, null, 2)));
    // One entry fewer.
    const shorter = JSON.parse(store.text(second!.key)) as { files: SnapshotFile[] };
    const shortened = fileListOf(
      Buffer.from(JSON.stringify({ ...shorter, files: shorter.files.slice(1) })),
      second!.key,
    );
    store.objects.set(
      second!.key,
      Buffer.from(JSON.stringify({ ...shorter, files: shorter.files.slice(1) })),
    );
    expect(await verifySnapshot(store, manifest)).toEqual([
      `File list ${first!.key} does not match its SHA-256.`,
      `File list ${second!.key} does not match its SHA-256.`,
    ]);
    await expect(readFileList(store, { ...second!, sha256: shortened.list.sha256 })).rejects.toThrow(
      `File list ${second!.key} holds 1 entries, not 2.`,
    );
    await expect(readFileList(store, { ...first!, key: `${first!.key}.gone` })).rejects.toThrow(
      `File list ${first!.key}.gone is missing from the store.`,
    );
    const pit = await reader.pointInTime('acme', finish.snapshotId);
    await expect(pit.files()).rejects.toThrow(SnapshotCorruptError);
  });

  it('read a format 1 manifest, whose file entries are its own, and the lists of a format 2 one, in order', async () => {
    const store = new MemoryStore();
    await store.put('l/a.json', JSON.stringify([entry('068000000000002AAA')]));
    await store.put(
      'l/b.json',
      JSON.stringify({ batch: 1, files: [entry('068000000000003AAA')], apiCalls: 1 }),
    );
    const lists = [
      fileListOf(await store.get('l/a.json'), 'l/a.json').list,
      fileListOf(await store.get('l/b.json'), 'l/b.json').list,
    ];
    const manifest = { files: [entry('068000000000001AAA')], fileLists: lists };
    const ids: string[] = [];
    for await (const file of snapshotFiles(store, manifest)) ids.push(file.recordId);
    expect(ids).toEqual(['068000000000001AAA', '068000000000002AAA', '068000000000003AAA']);
    expect(fileCount(manifest)).toBe(3);
    expect(fileCount({ files: [entry('068000000000001AAA')] })).toBe(1);
  });

  it('refuse a record that is not a list of file entries, naming its key', () => {
    expect(() => fileListOf(Buffer.from('{"files": [{"recordId": 1}]}'), 'k.json')).toThrow(
      'File list k.json is neither a list of file entries nor an object holding one in "files".',
    );
    expect(() => fileListOf(Buffer.from('[{'), 'k.json')).toThrow(/^File list k.json is not JSON/);
  });

  it('of a format 1 manifest, its own, keep their bodies through a sweep', async () => {
    // GIVEN two days of backups, the older one's file gone from the org, the kept one's manifest in format 1
    const source = orgWithFiles(at(-1), 2);
    const store = new MemoryStore();
    const first = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(0));
    source.object('ContentVersion').rows.splice(0, 1);
    const kept = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1));
    const reader = new SnapshotReader(store);
    const manifest = await reader.manifest('acme', kept.finish.snapshotId);
    const files = await filesOf(store, manifest);
    const { fileLists: _lists, ...rest } = manifest;
    const formatOne = { ...rest, formatVersion: 1, files };
    store.objects.set(manifestKey('acme', manifest.snapshotId), Buffer.from(JSON.stringify(formatOne)));
    for (const list of manifest.fileLists!) store.objects.delete(list.key);
    const gone = (await filesOf(store, await reader.manifest('acme', first.finish.snapshotId))).find(
      (f) => !files.some((k) => k.key === f.key),
    )!;
    // WHEN the policy keeps one daily snapshot
    const out = await sweepOrg(
      { store, remover: store, clock: () => at(1) },
      { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-1' },
    );
    // THEN the body only the expired snapshot named goes, and the kept one's still verifies
    expect(out).toMatchObject({ expired: 1, removedFileBodies: 1 });
    expect(await store.head(gone.key)).toBeUndefined();
    expect(files).toHaveLength(1);
    expect(await store.head(files[0]!.key)).toBeDefined();
    expect(await verifySnapshot(store, await reader.manifest('acme', manifest.snapshotId))).toEqual([]);
  });

  it('say where they are by their format: a manifest placing them otherwise is refused, naming the field', async () => {
    const { store, finish } = await runCore(
      orgWithFiles(at(-1), 1),
      { org: 'acme', mode: 'full' },
      {},
      new MemoryStore(),
      () => at(0),
    );
    const key = manifestKey('acme', finish.snapshotId);
    const manifest = parseManifest(store.text(key), key);
    const entries = await filesOf(store, manifest);
    expect(() => parseManifest(JSON.stringify({ ...manifest, files: entries }), key)).toThrow(
      /files.*format 2 lists its files in the records `fileLists` names/,
    );
    expect(() => parseManifest(JSON.stringify({ ...manifest, formatVersion: 1 }), key)).toThrow(
      /fileLists.*format 1 lists its files in `files`/,
    );
    const { fileLists: _lists, ...withoutLists } = manifest;
    expect(() => parseManifest(JSON.stringify(withoutLists), key)).toThrow(
      /fileLists.*format 2 names its file lists/,
    );
  });

  it('that a kept snapshot names unreadably stop the sweep before any file body goes', async () => {
    // GIVEN two days of backups, the older one's file gone from the org, and the kept one's list changed
    const source = orgWithFiles(at(-1), 2);
    const store = new MemoryStore();
    await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(0));
    source.object('ContentVersion').rows.splice(0, 1);
    const kept = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1));
    const list = (await new SnapshotReader(store).manifest('acme', kept.finish.snapshotId)).fileLists![0]!;
    store.objects.set(list.key, Buffer.from('[]'));
    const bodies = [...store.objects.keys()].filter((k) => k.includes('/files/sha256/'));
    // WHEN the policy keeps one daily snapshot
    const sweep = sweepOrg(
      { store, remover: store, clock: () => at(1) },
      { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-1' },
    );
    // THEN the sweep stops, naming the list, and every body is still there
    await expect(sweep).rejects.toThrow(RetentionCatalogUnreadableError);
    await expect(sweep).rejects.toThrow(`File list ${list.key} does not match its SHA-256.`);
    expect([...store.objects.keys()].filter((k) => k.includes('/files/sha256/'))).toEqual(bodies);
  });

  it('that a failed run names unreadably leave the sweep to read what its records name', async () => {
    // GIVEN two days of backups, the older one's file gone from the org, and a later failed run whose list was changed
    const source = orgWithFiles(at(-1), 2);
    const store = new MemoryStore();
    const first = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(0));
    source.object('ContentVersion').rows.splice(0, 1);
    await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1));
    // A file only the failed run names.
    const only = { ...source.object('ContentVersion').rows[0]!, Id: '068000000000009AAA', Name: 'late file' };
    source.object('ContentVersion').rows.push(only);
    source.setBlob('ContentVersion', only.Id, 'a body only the failed run stored');
    const late = await runCore(
      source,
      { org: 'acme', mode: 'full' },
      {},
      store,
      () => new Date(at(1).getTime() + 3_600_000),
    );
    const onlyBody = (
      await filesOf(store, await new SnapshotReader(store).manifest('acme', late.finish.snapshotId))
    ).find((f) => f.recordId === only.Id)!;
    const entryKey = catalogKey('acme', late.finish.snapshotId);
    const entry = JSON.parse(store.text(entryKey)) as Record<string, unknown>;
    store.objects.set(
      entryKey,
      Buffer.from(JSON.stringify({ ...entry, status: 'failed', problems: ['a part was lost'] })),
    );
    const list = (await new SnapshotReader(store).manifest('acme', late.finish.snapshotId)).fileLists![0]!;
    store.objects.set(list.key, Buffer.from(JSON.stringify(JSON.parse(store.text(list.key)), null, 2)));
    const reader = new SnapshotReader(store);
    const [gone, stays] = (await filesOf(store, await reader.manifest('acme', first.finish.snapshotId))).sort(
      (a, b) => (a.recordId === '068000000000001AAA' ? -1 : b.recordId === '068000000000001AAA' ? 1 : 0),
    );
    // WHEN the policy keeps one daily snapshot
    const out = await sweepOrg(
      { store, remover: store, clock: () => new Date(at(1).getTime() + 7_200_000) },
      { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-1' },
    );
    // THEN the sweep goes on: the body only the expired snapshot named goes, the others stay,
    // the failed run's own among them
    expect(out).toMatchObject({ done: true, expired: 1, removedFileBodies: 1 });
    expect(await store.head(gone!.key)).toBeUndefined();
    expect(await store.head(stays!.key)).toBeDefined();
    expect(await store.head(onlyBody.key)).toBeDefined();
    // A failed run's list that is not even JSON stops the sweep, naming it, before any body goes.
    store.objects.set(list.key, Buffer.from('[{'));
    await expect(
      sweepOrg(
        { store, remover: store, clock: () => new Date(at(1).getTime() + 7_200_000) },
        { org: 'acme', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0 }, execution: 'exec-2' },
      ),
    ).rejects.toThrow(`File list ${list.key} of run ${late.finish.snapshotId} of org acme is not JSON`);
  });

  it('name only bodies hashed in the vault: one the vault holds with other bytes fails every run until it is removed', async () => {
    const store = new Garbling();
    const source = orgWithFiles(at(-1), 1);
    const wrong =
      /^body sha256 \w{16} of ContentVersion 068000000000001AAA: the vault holds other bytes at orgs\/acme\/files\/sha256\/\w\w\/\w{64}/;
    // WHEN the store changes the body on its way in
    const first = runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(0));
    await expect(first).rejects.toThrow(wrong);
    // The problem line the finish writes names the body and the record, no value.
    const error = await first.catch((e: unknown) => e);
    expect(shortCause(error)).toMatch(
      /^SnapshotCorruptError in body sha256 \w{16} of ContentVersion 068000000000001AAA$/,
    );
    // THEN the next run, which finds the body stored but not indexed, hashes it too and fails alike
    store.garble = false;
    await expect(runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(1))).rejects.toThrow(
      wrong,
    );
    expect([...store.objects.keys()].some((k) => k.includes('/files/index/'))).toBe(false);
    // AND once the wrong body is removed, a run stores it again and completes
    for (const key of [...store.objects.keys()])
      if (key.includes('/files/sha256/')) store.objects.delete(key);
    const third = await runCore(source, { org: 'acme', mode: 'full' }, {}, store, () => at(2));
    expect(third.finish).toMatchObject({ status: 'complete', files: 1, filesDownloaded: 1 });
  });

  it("name a body the vault holds with other bytes in the failed run's problems, through the files step's catch", async () => {
    // GIVEN a store that changes a body on its way in, and the steps as the state machine runs them
    const source = orgWithFiles(at(-1), 1);
    const deps: BackupDeps = { store: new Garbling(), source, clock: () => at(0), sleep: async () => {} };
    const plan = await planBackup(
      deps,
      { org: 'acme', mode: 'full' },
      parseBackupSettings({ metadata: false }),
    );
    const run = { org: 'acme', snapshotId: plan.snapshotId };
    expect(await exportObject(deps, { ...run, object: 'ContentVersion' })).toMatchObject({ done: true });
    expect((await planFiles(deps, run)).batches).toBe(1);
    // WHEN the batch fails, and the Map's catch records it as the state machine does
    const error = (await backupFiles(deps, { ...run, batch: 1 }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('SnapshotCorruptError');
    await recordFilesFailure(deps, {
      ...run,
      batch: 1,
      error: {
        Error: error.name,
        Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }),
      },
    });
    // THEN the finish marks the run failed, naming the batch, the body by hash and the record
    const finish = await finishBackup(deps, run);
    expect(finish.status).toBe('failed');
    expect(finish.problems).toContainEqual(
      expect.stringMatching(
        /^batch 1: SnapshotCorruptError in body sha256 \w{16} of ContentVersion 068000000000001AAA/,
      ),
    );
  });

  it("name bodies a snapshot's verification finds by a HEAD each: one gone and one of another size are named", async () => {
    const { store, finish } = await runCore(
      orgWithFiles(at(-1), 3),
      { org: 'acme', mode: 'full' },
      {},
      new MemoryStore(),
      () => at(0),
    );
    const manifest = await new SnapshotReader(store).manifest('acme', finish.snapshotId);
    const [gone, changed] = await filesOf(store, manifest);
    const [, , same] = await filesOf(store, manifest);
    store.objects.delete(gone!.key);
    store.objects.set(changed!.key, Buffer.from('a longer body than the one backed up'));
    // The same size, other bytes: only an audit that hashes the bodies sees it.
    const bytes = Buffer.from(store.objects.get(same!.key)!);
    bytes[0] = bytes[0]! ^ 0xff;
    store.objects.set(same!.key, bytes);
    expect(await verifySnapshot(store, manifest)).toEqual([
      `file ContentVersion/${gone!.recordId}: body ${gone!.key} is missing`,
      `file ContentVersion/${changed!.recordId}: body size differs`,
    ]);
    expect(await verifySnapshot(store, manifest, { hashBodies: true })).toEqual([
      `file ContentVersion/${gone!.recordId}: body ${gone!.key} is missing`,
      `file ContentVersion/${changed!.recordId}: body size differs`,
      `file ContentVersion/${same!.recordId}: body does not match its SHA-256`,
    ]);
  });
});
