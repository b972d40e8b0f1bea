import type { SnapshotManifest } from '../snapshot/manifest.ts';
import type { ObjectResult } from './types.ts';

/**
 * The first alert rule: deletes and changed rows counted from the export results against one
 * org-wide threshold. `findAnomalies` in anomalies.ts still answers its old call with it until the
 * finish step passes the comparison's counts.
 */

/** One object whose deletes or changes passed the thresholds. */
export interface ResultAnomaly {
  readonly object: string;
  readonly kind: 'deletes' | 'changes';
  readonly count: number;
  readonly ofRows: number;
  readonly sampleIds: readonly string[];
}

/**
 * Compares this run with the snapshots before it. An incremental's deleted rows and changed rows
 * are counted directly; a full run's deletes are the live rows that disappeared since the last full.
 * Only ids and counts are reported, never field values.
 */
export function findResultAnomalies(
  results: readonly ObjectResult[],
  mode: 'full' | 'incremental',
  previousFull: SnapshotManifest | null,
  thresholds: { percent: number; rows: number },
): ResultAnomaly[] {
  if (!previousFull) return [];
  const anomalies: ResultAnomaly[] = [];
  const over = (count: number, ofRows: number) =>
    count > 0 && (count > thresholds.rows || (ofRows > 0 && (count / ofRows) * 100 > thresholds.percent));
  for (const result of results) {
    if (result.status !== 'exported') continue;
    const before = previousFull.objects.find((o) => o.name === result.object);
    if (!before) continue;
    const liveBefore = before.rows - before.deletedRows;
    if (mode === 'incremental') {
      if (over(result.deletedRows, liveBefore)) {
        anomalies.push({
          object: result.object,
          kind: 'deletes',
          count: result.deletedRows,
          ofRows: liveBefore,
          sampleIds: result.deletedIds,
        });
      }
      const changed = result.rows - result.deletedRows;
      if (over(changed, liveBefore)) {
        anomalies.push({
          object: result.object,
          kind: 'changes',
          count: changed,
          ofRows: liveBefore,
          sampleIds: [],
        });
      }
    } else {
      const gone = liveBefore - (result.rows - result.deletedRows);
      if (over(gone, liveBefore)) {
        anomalies.push({
          object: result.object,
          kind: 'deletes',
          count: gone,
          ofRows: liveBefore,
          sampleIds: result.deletedIds,
        });
      }
    }
  }
  return anomalies;
}

/** The SNS text for anomalies: object names, counts and a few ids. */
export function resultAnomalyMessage(
  org: string,
  snapshotId: string,
  anomalies: readonly ResultAnomaly[],
): string {
  if (anomalies.length === 0) return '';
  const lines = anomalies.slice(0, 20).map((a) => {
    const share = a.ofRows > 0 ? ` (${((a.count / a.ofRows) * 100).toFixed(1)}% of ${a.ofRows})` : '';
    const ids = a.sampleIds.length > 0 ? `; for example ${a.sampleIds.join(', ')}` : '';
    return `- ${a.object}: ${a.count} ${a.kind === 'deletes' ? 'rows deleted' : 'rows changed'}${share}${ids}`;
  });
  const more =
    anomalies.length > 20 ? `\n...and ${anomalies.length - 20} more objects (see the manifest).` : '';
  return `Unusual activity in org ${org}, seen by backup ${snapshotId}:\n${lines.join('\n')}${more}\nCheck whether these were intended; restore from the previous snapshot if not.`;
}
