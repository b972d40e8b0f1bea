import { mkdtempSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import { holdRestoreLeases } from '../../lambdas/core/erase/lease.ts';
import { restoreRoot } from '../../lambdas/core/restore/keys.ts';
import { acquireLease, LEASE_TTL_MS, liveClaims, releaseLease } from '../../lambdas/core/restore/lease.ts';
import { expiredInLogs } from '../../lambdas/core/retention/log.ts';
import { catalogKey } from '../../lambdas/core/snapshot/keys.ts';
import { BACKUP_RUN_RECORDS_DAYS, BACKUP_RUN_RECORDS_PREFIX } from '../../contract/workflow-contract.ts';
import {
  BackupHeldByErasureError,
  CLAIM_CLOCK_MARGIN_MS,
  ErasureDuringStepError,
  erasureClaimedSince,
  WritesUnlessErased,
  backupEnded,
  backupHeartbeat,
  endSweepTurn,
  runningBackups,
  startBackupRun,
  takeSweepTurn,
  vaultLeaseRoot,
} from '../../lambdas/core/vault-lease.ts';

const store = () => new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'sfbackup-vault-lease-')));

/** A directory store that runs `after` once, right after it wrote the first key `when` matches. */
class InterleavingStore extends LocalDirectoryStore {
  private hook?: { when: (key: string) => boolean; after: () => Promise<unknown> };
  static make(): InterleavingStore {
    return new InterleavingStore(mkdtempSync(join(tmpdir(), 'sfbackup-vault-lease-')));
  }
  interleave(when: (key: string) => boolean, after: () => Promise<unknown>): void {
    this.hook = { when, after };
  }
  override async put(...args: Parameters<LocalDirectoryStore['put']>) {
    const written = await super.put(...args);
    const hook = this.hook;
    if (hook?.when(args[0])) {
      this.hook = undefined;
      await hook.after();
    }
    return written;
  }
}
const noWait = { sleep: async () => {} };
const T0 = Date.parse('2026-06-01T10:17:00Z');
const MIN = 60_000;

describe("an org's running backups, as their heartbeats tell", () => {
  it('counts a backup as running until its last heartbeat expires, its catalog entry is written, or it says it ended', async () => {
    const s = store();
    await backupHeartbeat(s, 'acme', 'run-a', T0);
    await backupHeartbeat(s, 'acme', 'run-b', T0);
    await backupHeartbeat(s, 'acme', 'run-c', T0);
    expect((await runningBackups(s, 'acme', T0 + MIN)).map((r) => r.snapshotId)).toEqual([
      'run-a',
      'run-b',
      'run-c',
    ]);
    // Another org's heartbeats are its own.
    expect(await runningBackups(s, 'other', T0 + MIN)).toEqual([]);

    await s.put(catalogKey('acme', 'run-a'), '{}');
    await backupEnded(s, 'acme', 'run-b', T0 + MIN);
    expect((await runningBackups(s, 'acme', T0 + 2 * MIN)).map((r) => r.snapshotId)).toEqual(['run-c']);

    // Without a further heartbeat, run-c stops counting within the hour (plus its rounding)...
    const [c] = await runningBackups(s, 'acme', T0 + 2 * MIN);
    expect(c!.until).toBeGreaterThanOrEqual(T0 + LEASE_TTL_MS);
    expect(c!.until).toBeLessThanOrEqual(T0 + LEASE_TTL_MS + 5 * MIN);
    expect(await runningBackups(s, 'acme', c!.until)).toEqual([]);
    // ...and a step of the run 50 minutes in keeps it running past that.
    await backupHeartbeat(s, 'acme', 'run-c', T0 + 50 * MIN);
    expect((await runningBackups(s, 'acme', c!.until)).map((r) => r.snapshotId)).toEqual(['run-c']);
  });

  it('does not count a complete backup a sweep expired since its last heartbeat: its log names it', async () => {
    // GIVEN backups whose last heartbeats (at 10:17, so expiring at 11:20) are live, and no catalog entry
    const s = store();
    const [a, b, c, d, e] = ['aaaaaa', 'bbbbbb', 'cccccc', 'dddddd', 'eeeeee'].map(
      (suffix) => `20260601T101000000Z-${suffix}`,
    );
    for (const id of [a, b, c, d, e]) await backupHeartbeat(s, 'acme', id!, T0);
    await s.put(catalogKey('acme', d!), '{}');
    const log = (expired: [string, string][]) =>
      JSON.stringify({ expired: expired.map(([snapshotId, state]) => ({ snapshotId, state })) });
    // a sweep at 10:25 expired a complete, and b as a failed run (which a redrive may be running)
    await s.put(
      'orgs/acme/retention/20260601T102500000Z-daily-2.json',
      log([
        [a!, 'complete'],
        [b!, 'failed'],
      ]),
    );
    // one at 10:18 expired c complete, but c's last heartbeat may have come after it began
    await s.put('orgs/acme/retention/20260601T101800000Z-daily-1.json', log([[c!, 'complete']]));
    // e is named only by a sweep's own records, and by an entry from before it started
    await s.put('orgs/acme/retention/20260601T102500000Z-daily-2/bodies.json', log([[e!, 'complete']]));
    await s.put('orgs/acme/retention/20260531T020000000Z-daily-0.json', log([[e!, 'complete']]));
    // and an entry that is not one is read past, not failed on
    await s.put('orgs/acme/retention/20260601T102600000Z-daily-3.json', 'not json');
    // THEN the complete one swept after its last heartbeat is the one left out
    expect((await runningBackups(s, 'acme', T0 + MIN)).map((r) => r.snapshotId)).toEqual([b, c, e]);
    // AND c, once a sweep that began after its last heartbeat names it, is left out too
    await s.put('orgs/acme/retention/20260601T103000000Z-daily-4.json', log([[c!, 'complete']]));
    expect((await runningBackups(s, 'acme', T0 + MIN)).map((r) => r.snapshotId)).toEqual([b, e]);
    // AND b, redriven, heartbeats on: it counts whatever the logs say
    await backupHeartbeat(s, 'acme', b!, T0 + 20 * MIN);
    expect((await runningBackups(s, 'acme', T0 + 21 * MIN)).map((r) => r.snapshotId)).toEqual([b, e]);
  });

  it('names the retention log entries it cannot read, for the sweep to refuse them', async () => {
    const s = store();
    await s.put('orgs/acme/retention/20260601T102500000Z-daily-2.json', 'not json');
    await s.put('orgs/acme/retention/20260601T102600000Z-daily-3.json', '{"expired":[null]}');
    await s.put('orgs/acme/retention/20260601T102700000Z-daily-4-deferred.json', '{"reason":"a backup ran"}');
    await s.put(
      'orgs/acme/retention/20260601T102800000Z-daily-5.json',
      '{"expired":[{"snapshotId":"x","state":"complete"}]}',
    );
    expect(await expiredInLogs(s, 'acme', ['20260601T101000000Z-aaaaaa', 'x'])).toEqual({
      expired: [{ snapshotId: 'x', state: 'complete', sweptAt: Date.parse('2026-06-01T10:28:00Z') }],
      unreadable: [
        'orgs/acme/retention/20260601T102500000Z-daily-2.json',
        'orgs/acme/retention/20260601T102600000Z-daily-3.json',
      ],
    });
  });

  it('ignores a heartbeat no backup step writes: one lasting past the hour and its rounding, or filed under another hour', async () => {
    const s = store();
    await backupHeartbeat(s, 'acme', 'run-a', T0);
    // A heartbeat written with a far expiry would hold erasures off until then.
    await backupHeartbeat(s, 'acme', 'run-far', T0, 5 * LEASE_TTL_MS);
    const folderOf = (ms: number) => `orgs/acme/lease/backups/${new Date(ms).toISOString().slice(0, 13)}/`;
    // One filed under this hour's folder (10:00), its expiry (11:20) belonging to the next.
    const expiry = Math.ceil((T0 + LEASE_TTL_MS) / (5 * MIN)) * 5 * MIN;
    expect(folderOf(expiry)).not.toBe(folderOf(T0));
    await s.put(`${folderOf(T0)}run-moved-${String(expiry).padStart(15, '0')}.json`, '{}');
    // One in its own hour's folder, lasting to 11:55: more than an hour and two steps from 10:18.
    const late = Date.parse('2026-06-01T11:55:00Z');
    await s.put(`${folderOf(late)}run-late-${String(late).padStart(15, '0')}.json`, '{}');
    expect((await runningBackups(s, 'acme', T0 + MIN)).map((r) => r.snapshotId)).toEqual(['run-a']);
  });

  it("writes a run's records only under the prefix the vault's lifecycle expires, and nothing else there", async () => {
    const s = store();
    await backupHeartbeat(s, 'acme', 'run-a', T0);
    await backupHeartbeat(s, 'acme', 'run-a', T0 + 20 * MIN);
    await takeSweepTurn(s, 'acme', 'daily-1', noWait);
    await endSweepTurn(s, 'acme', 'daily-1');
    await acquireLease(s, vaultLeaseRoot('acme'), 'erasure-e1', noWait);
    // A backup refused by the erasure holding the org leaves a heartbeat and its end.
    await expect(startBackupRun(s, 'acme', 'run-b', T0)).rejects.toThrow(BackupHeldByErasureError);
    const keys: string[] = [];
    for await (const { key } of s.list('orgs/acme/')) keys.push(key);
    const expiring = `orgs/acme/${BACKUP_RUN_RECORDS_PREFIX}`;
    const [runRecords, others] = [
      keys.filter((k) => k.startsWith(expiring)),
      keys.filter((k) => !k.startsWith(expiring)),
    ];
    const shape = (k: string) =>
      k
        .slice(expiring.length)
        .replace(/\/[^/]+\//, '/')
        .replace(/\d{15}/, 'N');
    expect(runRecords.sort().map(shape)).toEqual([
      '-ended/run-b.json',
      '/run-a-N.json',
      '/run-a-N.json',
      '/run-b-N.json',
    ]);
    // The lease's claims, renewals and releases stay: they tell the windows of sweeps and erasures.
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((k) => /^orgs\/acme\/lease\/(claims|renewed|released)\//.test(k))).toBe(true);
    // Past its heartbeats (an hour and its rounding), nothing reads a run's records: the two days
    // the lifecycle waits are well beyond.
    expect(await runningBackups(s, 'acme', T0 + 20 * MIN + LEASE_TTL_MS + 5 * MIN)).toEqual([]);
    expect(LEASE_TTL_MS + 10 * MIN).toBeLessThan(BACKUP_RUN_RECORDS_DAYS * 24 * 60 * MIN);
  });

  it('writes a heartbeat at most once per five minutes of expiry, whatever the number of steps', async () => {
    const s = store();
    for (let second = 0; second < 120; second += 7)
      await backupHeartbeat(s, 'acme', 'run-a', T0 + second * 1000);
    const keys: string[] = [];
    for await (const { key } of s.list('orgs/acme/lease/backups/')) keys.push(key);
    expect(keys.length).toBeLessThanOrEqual(2);
    expect(keys[0]).toMatch(/^orgs\/acme\/lease\/backups\/2026-06-01T11\/run-a-\d{15}\.json$/);
  });
});

describe('a backup and an erasure take turns', () => {
  it("refuses a backup while an erasure holds the org's vault lease, naming it, and leaves nothing running", async () => {
    const s = store();
    const now = Date.now();
    await acquireLease(s, vaultLeaseRoot('acme'), 'erasure-dpo-42', noWait);
    const refused = startBackupRun(s, 'acme', 'run-a', now);
    await expect(refused).rejects.toBeInstanceOf(BackupHeldByErasureError);
    await expect(startBackupRun(s, 'acme', 'run-b', now)).rejects.toThrow(
      /execution dpo-42 of its erase workflow holds the org's vault lease.*stopped before writing any snapshot object/,
    );
    // The refused runs do not hold off the next erasure.
    expect(await runningBackups(s, 'acme', now)).toEqual([]);
    // Another org's backup is not held.
    await expect(startBackupRun(s, 'other', 'run-c', now)).resolves.toBeUndefined();
    // Once the erasure has ended, a backup goes.
    await releaseLease(s, vaultLeaseRoot('acme'), 'erasure-dpo-42');
    await expect(startBackupRun(s, 'acme', 'run-d', now)).resolves.toBeUndefined();
    expect((await runningBackups(s, 'acme', now)).map((r) => r.snapshotId)).toEqual(['run-d']);
  });

  it('refuses a backup whose plan wrote its heartbeat just before an erasure claimed the lease: it reads the lease after', async () => {
    const s = InterleavingStore.make();
    s.interleave(
      (key) => key.includes('/lease/backups/'),
      () => acquireLease(s, vaultLeaseRoot('acme'), 'erasure-between', noWait),
    );
    await expect(startBackupRun(s, 'acme', 'run-a', Date.now())).rejects.toThrow(/execution between/);
  });

  it('waits, holding the org, for a backup planned between its first look and its claim, renewing its leases, and goes on once it ended', async () => {
    const s = InterleavingStore.make();
    s.interleave(
      (key) => key.includes('/lease/claims/') && key.includes('erasure-e1'),
      () => backupHeartbeat(s, 'acme', 'run-between', Date.now()),
    );
    const holders = async () => (await liveClaims(s, vaultLeaseRoot('acme'), Date.now())).map((c) => c.runId);
    const waits = {
      name: 'ErasureMustWaitError',
      holdsOrg: true,
      message: expect.stringMatching(
        /A backup of org acme is running: snapshot run-between .*nothing was erased\. It began before this erasure took the org, which the erasure keeps while it waits: backups, sweeps, restores \(dry runs included\) and diff reports of the org that start from now are refused.*tries again.*A stopped erasure keeps the org until its leases expire/,
      ),
    };
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      await expect(holdRestoreLeases(s, 'acme', 'e1')).rejects.toMatchObject(waits);
      expect(await holders()).toEqual(['erasure-e1']);
      // Meanwhile a backup that starts is refused, and so is another erasure
      await expect(startBackupRun(s, 'acme', 'run-new', Date.now())).rejects.toBeInstanceOf(
        BackupHeldByErasureError,
      );
      await expect(holdRestoreLeases(s, 'acme', 'e2')).rejects.toMatchObject({
        name: 'ErasureMustWaitError',
        holdsOrg: false,
      });
      // The step tried again over more than a lease's life still waits, and still holds the org.
      for (let tries = 0; tries < 4; tries++) {
        vi.setSystemTime(Date.now() + 25 * MIN);
        await backupHeartbeat(s, 'acme', 'run-between', Date.now());
        await expect(holdRestoreLeases(s, 'acme', 'e1')).rejects.toMatchObject(waits);
        expect(await holders()).toEqual(['erasure-e1']);
      }
      // Once the backup has ended, the step tried again goes on with the leases it holds.
      await backupEnded(s, 'acme', 'run-between', Date.now());
      await expect(holdRestoreLeases(s, 'acme', 'e1')).resolves.toBeUndefined();
      expect(await holders()).toEqual(['erasure-e1']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an erasure that holds the org when a restore it did not wait for holds a new root, and gives every lease back', async () => {
    const s = InterleavingStore.make();
    const newRoot = restoreRoot('acme', '00D000000000002AAA');
    s.interleave(
      (key) => key.includes('/lease/claims/') && key.includes('erasure-e1'),
      () => acquireLease(s, newRoot, 'restore-between', noWait),
    );
    await expect(holdRestoreLeases(s, 'acme', 'e1')).rejects.toMatchObject({
      name: 'ErasureImpossibleError',
      message: expect.stringMatching(/A restore holds the lease of .*: execution restore-between, since/),
    });
    expect(await liveClaims(s, vaultLeaseRoot('acme'), Date.now())).toEqual([]);
  });

  it('lets a backup run beside a retention sweep', async () => {
    const s = store();
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({ held: true });
    await expect(startBackupRun(s, 'acme', 'run-a', Date.now())).resolves.toBeUndefined();
  });
});

describe('a step that reads the backups without a turn, and an erasure', () => {
  it('finds an erasure claimed since the step began, ended or not, and no sweep or erasure claimed before', async () => {
    const s = store();
    const clock = { now: T0 };
    const at = { now: () => clock.now, sleep: async () => {} };
    // An erasure claimed before the step's clock margin, and a sweep claimed during it, are not in its way.
    await acquireLease(s, vaultLeaseRoot('acme'), 'erasure-early', at);
    await releaseLease(s, vaultLeaseRoot('acme'), 'erasure-early', at.now);
    clock.now += 10 * MIN;
    const since = clock.now;
    const justBefore = { ...at, now: () => since - CLAIM_CLOCK_MARGIN_MS - 1 };
    await acquireLease(s, vaultLeaseRoot('acme'), 'erasure-before-margin', justBefore);
    await releaseLease(s, vaultLeaseRoot('acme'), 'erasure-before-margin', justBefore.now);
    clock.now += MIN;
    expect(await takeSweepTurn(s, 'acme', 'daily-1', at)).toMatchObject({ held: true });
    expect(await erasureClaimedSince(s, 'acme', since)).toBeUndefined();
    await endSweepTurn(s, 'acme', 'daily-1', at.now);
    // One claimed by a clock behind, within the margin, and ended since, is.
    const behind = { ...at, now: () => since - CLAIM_CLOCK_MARGIN_MS };
    await acquireLease(s, vaultLeaseRoot('acme'), 'erasure-late', behind);
    await releaseLease(s, vaultLeaseRoot('acme'), 'erasure-late', at.now);
    expect(await erasureClaimedSince(s, 'acme', since)).toEqual({
      runId: 'erasure-late',
      claimedAt: since - CLAIM_CLOCK_MARGIN_MS,
    });
    // ...and not for another org, or a step that began after it.
    expect(await erasureClaimedSince(s, 'other', since)).toBeUndefined();
    expect(await erasureClaimedSince(s, 'acme', clock.now + MIN)).toBeUndefined();
  });

  it('refuses to begin a step while an erasure holds the org, before it reads', async () => {
    const inner = store();
    await acquireLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-6', noWait);
    const refused = await WritesUnlessErased.begin(inner, 'acme', 'this diff report').catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ErasureDuringStepError);
    expect((refused as Error).message).toMatch(
      /^An erasure is rewriting the backups of org acme: execution dpo-6 of its erase workflow holds the org's vault lease since \S+\. What this diff report would read may hold the person it removes, so it read and wrote nothing\. Start it again once that execution has ended; if it was stopped, its lease frees itself at \S+\.$/,
    );
    // ...and begins one once the erasure has ended (what it reads then was rewritten)
    await releaseLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-6');
    const later = Date.now() + CLAIM_CLOCK_MARGIN_MS + 1_000;
    const step = await WritesUnlessErased.begin(inner, 'acme', 'this diff report', () => later);
    await expect(step.put('reports/acme/diffs/x/run.json', '{}')).resolves.toMatchObject({ bytes: 2 });
  });

  it('lets a step begun right after an erasure ended write, though that erasure claimed within the clocks margin', async () => {
    const inner = store();
    // GIVEN an erasure that claimed a second ago and has ended
    const aSecondAgo = { ...noWait, now: () => Date.now() - 1_000 };
    await acquireLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-8', aSecondAgo);
    await releaseLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-8');
    // THEN a step begun now writes: it read nothing before that erasure's release was there
    const s = await WritesUnlessErased.begin(inner, 'acme', 'this diff report');
    await expect(s.put('reports/acme/diffs/x/run.json', '{}')).resolves.toMatchObject({ bytes: 2 });
    // AND an erasure that claims after the step began still stops its writes, though it ended too
    await acquireLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-9', noWait);
    await releaseLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-9');
    await expect(s.put('reports/acme/diffs/x/diff.json', '{}')).rejects.toThrow(/execution dpo-9 /);
  });

  it('lets the step write until an erasure claims the org, then refuses every write, reads still going', async () => {
    const inner = store();
    const s = await WritesUnlessErased.begin(inner, 'acme', 'this diff report');
    await s.put('reports/acme/diffs/x/run.json', '{}');
    await acquireLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-7', noWait);
    const refused = s.put('reports/acme/diffs/x/objects/Contact.json', '{}').catch((e: unknown) => e);
    expect(await refused).toBeInstanceOf(ErasureDuringStepError);
    expect(((await refused) as Error).message).toMatch(
      /^An erasure of org acme \(execution dpo-7 of its erase workflow, claimed at \S+\) began while this diff report read its backups: .* so it did not write reports\/acme\/diffs\/x\/objects\/Contact\.json or anything after it\. Start it again once that execution has ended\.$/,
    );
    await expect(s.putPointer('reports/acme/latest.json', '{}')).rejects.toBeInstanceOf(
      ErasureDuringStepError,
    );
    await expect(s.putStream('reports/acme/x.csv', Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(
      ErasureDuringStepError,
    );
    expect(await inner.head('reports/acme/diffs/x/objects/Contact.json')).toBeUndefined();
    expect(new TextDecoder().decode(await s.get('reports/acme/diffs/x/run.json'))).toBe('{}');
    // ...saying so once the erasure has ended, too
    await releaseLease(inner, vaultLeaseRoot('acme'), 'erasure-dpo-7');
    await expect(s.put('reports/acme/diffs/x/diff.json', '{}')).rejects.toThrow(
      /That execution has ended: start it again\.$/,
    );
  });
});

describe('sweeps and erasures take turns', () => {
  it('gives the lease to one sweep at a time, keeps it for the same sweep, and frees it at its end', async () => {
    const s = store();
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({ held: true });
    // The same execution's next invocation keeps it.
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({ held: true });
    const other = await takeSweepTurn(s, 'acme', 'after-backup-2', noWait);
    expect(other).toMatchObject({ held: false, heldBy: { runId: 'sweep-daily-1' } });
    // An erasure cannot take it meanwhile.
    await expect(acquireLease(s, vaultLeaseRoot('acme'), 'erasure-e1', noWait)).rejects.toThrow(
      /sweep-daily-1/,
    );
    await endSweepTurn(s, 'acme', 'daily-1');
    expect(await takeSweepTurn(s, 'acme', 'after-backup-2', noWait)).toMatchObject({ held: true });
  });

  it('claims again, under a new claim, for an invocation retried after its sweep gave the lease back, and gives that back too', async () => {
    const s = store();
    const root = vaultLeaseRoot('acme');
    const holders = async () => (await liveClaims(s, root, Date.now())).map((c) => c.runId);
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({ held: true });
    await endSweepTurn(s, 'acme', 'daily-1');
    // Step Functions retries the invocation whose answer was lost after it had ended.
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({
      held: true,
      runId: 'sweep-daily-1~1',
    });
    expect(await holders()).toEqual(['sweep-daily-1~1']);
    // Its next invocation keeps that claim; another sweep and an erasure wait for it, the
    // erasure told which execution holds it.
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({ held: true });
    expect(await holders()).toEqual(['sweep-daily-1~1']);
    expect(await takeSweepTurn(s, 'acme', 'after-backup-2', noWait)).toMatchObject({
      held: false,
      heldBy: { runId: 'sweep-daily-1~1' },
    });
    await expect(holdRestoreLeases(s, 'acme', 'e1')).rejects.toThrow(
      /A retention sweep holds the lease of .*: execution daily-1, since/,
    );
    // Its end (or its failure path's release step) gives back the claim it holds.
    await endSweepTurn(s, 'acme', 'daily-1');
    expect(await holders()).toEqual([]);
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({ held: true });
    expect(await holders()).toEqual(['sweep-daily-1~2']);
    await endSweepTurn(s, 'acme', 'daily-1');
    expect(await holders()).toEqual([]);
    // Releasing a sweep that holds nothing writes nothing.
    const released = async () => {
      const keys: string[] = [];
      for await (const { key } of s.list(`${root}lease/released/`)) keys.push(key);
      return keys.length;
    };
    const before = await released();
    await endSweepTurn(s, 'acme', 'daily-1');
    await endSweepTurn(s, 'acme', 'never-ran');
    expect(await released()).toBe(before);
  });

  it('lets no late invocation of a failed sweep claim again once its release step ran, whichever came first', async () => {
    const root = vaultLeaseRoot('acme');
    // The release step ran before the late invocation.
    const s = store();
    await endSweepTurn(s, 'acme', 'failed-1', Date.now, true);
    await expect(takeSweepTurn(s, 'acme', 'failed-1', noWait)).rejects.toThrow(
      /Execution failed-1 of the retention sweep of org acme has failed .* removed nothing/,
    );
    expect(await liveClaims(s, root, Date.now())).toEqual([]);
    // The late invocation holds the turn when the release step runs: the step gives it back, and
    // the invocation's next take is refused.
    expect(await takeSweepTurn(s, 'acme', 'failed-2', noWait)).toMatchObject({ held: true });
    await endSweepTurn(s, 'acme', 'failed-2', Date.now, true);
    expect(await liveClaims(s, root, Date.now())).toEqual([]);
    await expect(takeSweepTurn(s, 'acme', 'failed-2', noWait)).rejects.toThrow(/has failed/);
    // The release step writes its record just after the invocation wrote its claim (and lists the
    // claims before the claim shows): the invocation sees the record and gives its claim back.
    const t = InterleavingStore.make();
    t.interleave(
      (key) => key.includes('/lease/claims/') && key.endsWith('-sweep-failed-3.json'),
      // Its listing does not show the claim: as late as a claim long expired.
      () => endSweepTurn(t, 'acme', 'failed-3', () => Date.now() + 2 * LEASE_TTL_MS, true),
    );
    await expect(takeSweepTurn(t, 'acme', 'failed-3', noWait)).rejects.toThrow(/has failed/);
    expect(await liveClaims(t, root, Date.now())).toEqual([]);
    // Other executions sweep as before.
    expect(await takeSweepTurn(t, 'acme', 'daily-2', noWait)).toMatchObject({ held: true });
  });

  it('leaves a sweep nothing to do while an erasure holds the lease', async () => {
    const s = store();
    await acquireLease(s, vaultLeaseRoot('acme'), 'erasure-e1', noWait);
    expect(await takeSweepTurn(s, 'acme', 'daily-1', noWait)).toMatchObject({
      held: false,
      heldBy: { runId: 'erasure-e1' },
    });
  });

  it('frees the lease of a sweep that stopped without giving it back an hour after its last renewal', async () => {
    const s = store();
    let now = T0;
    const clock = { ...noWait, now: () => now };
    expect(await takeSweepTurn(s, 'acme', 'stopped', clock)).toMatchObject({ held: true });
    now += LEASE_TTL_MS - MIN;
    expect(await takeSweepTurn(s, 'acme', 'next', clock)).toMatchObject({ held: false });
    now += 2 * MIN;
    expect(await takeSweepTurn(s, 'acme', 'next', clock)).toMatchObject({ held: true });
  });
});
