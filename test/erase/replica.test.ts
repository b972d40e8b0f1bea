import { describe, expect, it } from 'vitest';
import { erasureLogPrefix } from '../../lambdas/core/erase/finish.ts';
import { RemovalLog } from '../../lambdas/core/erase/removals.ts';
import {
  cleanReplica,
  ReplicaCleaningFailedError,
  ReplicaListUnusableError,
} from '../../lambdas/core/erase/replica.ts';
import type { VersionedStore } from '../../lambdas/core/store.ts';
import { MemoryStore } from '../backup/memory-store.ts';
import { versionsHolding } from './vault-scan.ts';

const clean = (vault: MemoryStore, replica: VersionedStore, vaultVersions = versionsHolding(new Set())) =>
  cleanReplica({ vault, vaultVersions, replica, org: 'acme', confirm: true });

describe('which listed versions erase-replica removes', () => {
  it.each([
    'orgs/acme/snapshots/20260101T000000000Z-abcdef/objects/Contact/part-00001.csv.gz',
    'orgs/acme/catalog/20260101T000000000Z-abcdef.json',
    'orgs/acme/files/index/md5-0123.json',
    'orgs/acme/journal/2026/01/01/events.ndjson.gz',
    'orgs/acme/erasures/exec-1/plan.json',
    'orgs/acme/erasures/exec-1/progress/erase.json',
    'restores/acme/00D000000000001AAA/id-map/Contact/0001.json',
    'reports/acme/diffs/report-1/diff.json',
  ])('removes a listed version of %s, which an erasure of the org may remove', async (key) => {
    const vault = new MemoryStore();
    await RemovalLog.of(vault, 'acme', 'exec-1').note(key, ['v1']);
    const replica = versionsHolding(new Set([`${key} v1`, `${key} v2`]));
    expect(await clean(vault, replica)).toMatchObject({ removed: 1, leftCount: 0 });
    expect(replica.held).toEqual(new Set([`${key} v2`]));
  });

  it.each([
    ['the retention log', 'orgs/acme/retention/20260101T030000000Z-x.json'],
    ['the erasure log', 'orgs/acme/erasures/log/20260101T030000000Z-exec-1.json'],
    ['a list of removed versions', 'orgs/acme/erasures/exec-1/removed/0123.json'],
    ['the latest pointer', 'orgs/acme/latest-complete.json'],
    ['the vault lease', 'orgs/acme/lease/claims/001767236400000-erasure-x.json'],
    ['a plan-like name the dot of which is another character', 'orgs/acme/erasures/exec-1/planXjson'],
    ["another org's restores whose name begins alike", 'restores/acme-prod/00D000000000001AAA/id-map/x.json'],
    [
      "another org's part",
      'orgs/other/snapshots/20260101T000000000Z-abcdef/objects/Contact/part-00001.csv.gz',
    ],
    ['a key climbing out of its folder', 'orgs/acme/snapshots/../../other/snapshots/x/part.csv.gz'],
    ['a key with a control character', 'orgs/acme/snapshots/x/\npart.csv.gz'],
  ])('refuses a list naming %s, removing nothing', async (_what, key) => {
    const vault = new MemoryStore();
    const good = 'orgs/acme/catalog/20260101T000000000Z-abcdef.json';
    await RemovalLog.of(vault, 'acme', 'exec-1').note(good, ['v1']);
    await RemovalLog.of(vault, 'acme', 'exec-2').note(key, ['v1']);
    const replica = versionsHolding(new Set([`${good} v1`, `${key} v1`]));
    const error = await clean(vault, replica).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplicaListUnusableError);
    expect((error as Error).message).toContain(`names ${JSON.stringify(key)}, which no erasure of org acme`);
    expect(replica.held.size).toBe(2);
  });

  it('counts a version two executions listed once, and each execution with its own', async () => {
    const vault = new MemoryStore();
    const key = 'orgs/acme/catalog/20260101T000000000Z-abcdef.json';
    await RemovalLog.of(vault, 'acme', 'exec-1').note(key, ['v1', 'v2']);
    await RemovalLog.of(vault, 'acme', 'exec-2').note(key, ['v2']);
    const replica = versionsHolding(new Set([`${key} v1`, `${key} v2`, `${key} v3`]));
    const report = await clean(vault, replica);
    expect(report).toMatchObject({ keys: 1, listedVersions: 2, inReplica: 2, removed: 2, notInReplica: 0 });
    expect(report.executions.map((e) => [e.execution, e.status, e.versions])).toEqual([
      ['exec-1', 'no log entry', 2],
      ['exec-2', 'no log entry', 1],
    ]);
  });

  it('leaves in the replica a listed version the vault still holds', async () => {
    const vault = new MemoryStore();
    const key = 'orgs/acme/catalog/20260101T000000000Z-abcdef.json';
    await RemovalLog.of(vault, 'acme', 'exec-1').note(key, ['v1', 'v2']);
    const replica = versionsHolding(new Set([`${key} v1`, `${key} v2`]));
    const report = await clean(vault, replica, versionsHolding(new Set([`${key} v2`])));
    expect(report).toMatchObject({
      stillInVault: 1,
      namedStillInVault: [{ key, versionId: 'v2' }],
      removed: 1,
    });
    expect(replica.held).toEqual(new Set([`${key} v2`]));
  });

  it('shows an execution whose log entry is not an object as unreadable, and stops on a log it cannot read, removing nothing', async () => {
    const vault = new MemoryStore();
    const key = 'orgs/acme/catalog/20260101T000000000Z-abcdef.json';
    await RemovalLog.of(vault, 'acme', 'exec-1').note(key, ['v1']);
    await vault.put(`${erasureLogPrefix('acme')}20260101T030000000Z-exec-1.json`, '42');
    const replica = versionsHolding(new Set([`${key} v1`]));
    const dry = await cleanReplica({
      vault,
      vaultVersions: versionsHolding(new Set()),
      replica,
      org: 'acme',
      confirm: false,
    });
    expect(dry.executions).toEqual([
      { execution: 'exec-1', status: 'log entry unreadable', keys: 1, versions: 1 },
    ]);
    // ...and a log entry the vault cannot give stops the run before any removal
    const get = vault.get.bind(vault);
    vault.get = async (k) =>
      k.includes('/erasures/log/')
        ? Promise.reject(Object.assign(new Error('Slow Down'), { name: 'SlowDown' }))
        : get(k);
    const error = await clean(vault, replica).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^reading orgs\/acme\/erasures\/log\/\S+ from the vault failed \(SlowDown/,
    );
    expect(replica.held.size).toBe(1);
  });

  it('says which read of the vault or the replica failed, and where', async () => {
    const vault = new MemoryStore();
    const key = 'orgs/acme/catalog/20260101T000000000Z-abcdef.json';
    await RemovalLog.of(vault, 'acme', 'exec-1').note(key, ['v1']);
    const replica = versionsHolding(new Set([`${key} v1`]));
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const unreadable = {
      ...versionsHolding(new Set()),
      listVersions: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(denied) }) }),
    };
    const error = await clean(vault, replica, unreadable).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplicaCleaningFailedError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^listing the versions of ${key.replace(/\./g, '\\.')} in the vault failed \\(AccessDenied: Access Denied\\); nothing more was removed\\.`,
      ),
    );
    // ...a list the vault cannot give (its key not usable) is not taken for a planted one
    const get = vault.get.bind(vault);
    vault.get = async (k) => (k.includes('/removed/') ? Promise.reject(denied) : get(k));
    const read = await clean(vault, replica).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(ReplicaCleaningFailedError);
    expect((read as Error).message).toMatch(
      /^reading orgs\/acme\/erasures\/exec-1\/removed\/\S+\.json from the vault failed \(AccessDenied/,
    );
    expect(replica.held.size).toBe(1);
  });
});
