/**
 * Benchmark "org": a full backup of a whole generated org through the synthesized workflow, against
 * what a user without the product would script: `sf data export bulk` once per object, in turn.
 */
import { LocalDirectoryStore } from '../lambdas/adapters/local-store.ts';
import type { ObjectSpec } from '../lambdas/core/backup/types.ts';
import { objectSpecKey } from '../lambdas/core/snapshot/keys.ts';
import { SnapshotReader } from '../lambdas/core/snapshot/reader.ts';
import { freshVault, ORG_KEY, timedBackup } from './backup-run.ts';
import type { BenchOptions } from './options.ts';
import { startEmulatorProcess } from './proc.ts';
import type { Report } from './report.ts';
import { loginSf } from './sf-peer.ts';

/** Runs benchmark "org". */
export async function benchWholeOrg(report: Report, o: BenchOptions): Promise<void> {
  const section = `Whole org: ${o.objects} objects x ${o.orgRows.toLocaleString('en-US')} rows`;
  const emu = await startEmulatorProcess({
    generate: `objects=${o.objects},rows=${o.orgRows},fields=20,seed=42,files=0`,
    bulkPageSize: o.pageSize,
  });
  try {
    const dir = freshVault();
    // The product's default settings (2 s Bulk polls, 100,000-row pages), as deployed.
    const backup = await timedBackup(emu, dir, 'full');
    const store = new LocalDirectoryStore(dir);
    const pit = await new SnapshotReader(store).pointInTime(ORG_KEY, 'latest');
    const objects = pit.target.objects.filter((x) => x.status === 'exported' && x.rows > 0);
    const snapshotId = backup.summary.snapshotId ?? '';
    const sf = await loginSf(emu);
    let sfSeconds = 0;
    try {
      for (const object of objects) {
        const spec = JSON.parse(
          new TextDecoder().decode(await store.get(objectSpecKey(ORG_KEY, snapshotId, object.name))),
        ) as ObjectSpec;
        const { seconds } = await sf.exportBulk(
          `SELECT ${spec.columns.join(', ')} FROM ${object.name}`,
          `${object.name}.csv`,
        );
        sfSeconds += seconds;
      }
    } finally {
      sf.cleanup();
    }
    const add = report.section(section);
    add('org.objects_with_rows', 'objects with rows', objects.length, 'objects');
    add('org.rows', 'rows backed up', backup.summary.rows, 'rows');
    add('org.backup_s', 'full backup (synthesized workflow, metadata included)', backup.seconds, 's');
    add('org.sf_loop_s', '`sf data export bulk` once per object, in turn', sfSeconds, 's');
    const speedup = sfSeconds / backup.seconds;
    add('org.ratio.sf_loop_to_backup', 'speed-up over the per-object sf loop', speedup, 'ratio', [
      '>= 5',
      speedup >= 5,
    ]);
  } finally {
    await emu.stop();
  }
}
