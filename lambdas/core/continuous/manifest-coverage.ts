/**
 * What a snapshot manifest says about the change-event journal: the stretch the journal is known
 * not to cover (`journalBreak`, top level) and which objects' change events were on the relay's
 * channel at the run (`continuous`, per object). Read from the stored manifest's JSON with a
 * schema of these fields only, so that manifests written before the fields existed read as
 * "no break" and "not continuous".
 */
import { z } from 'zod';
import { InvalidSnapshotManifestError } from '../snapshot/manifest.ts';
import type { BackupStore } from '../store.ts';

/** A stretch of time the journal is not complete for, as a snapshot manifest records it. */
export interface JournalBreak {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** The journal-related fields of one manifest. */
export interface ManifestCoverage {
  readonly journalBreak?: JournalBreak;
  /** Objects the manifest marks `continuous: true`. */
  readonly continuousObjects: ReadonlySet<string>;
}

const coverageSchema = z.object({
  journalBreak: z
    .object({ from: z.string().datetime(), to: z.string().datetime(), reason: z.string() })
    .optional(),
  objects: z.array(z.object({ name: z.string(), continuous: z.boolean().optional() })).default([]),
});

/** Reads the journal-related fields of the manifest stored at `key`. */
export async function readManifestCoverage(store: BackupStore, key: string): Promise<ManifestCoverage> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(await store.get(key)));
  } catch (error) {
    throw new InvalidSnapshotManifestError(`${key} is not JSON: ${(error as Error).message}`);
  }
  const parsed = coverageSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidSnapshotManifestError(
      `${key} does not hold the journal fields in the snapshot format: ${problems.join('; ')}`,
    );
  }
  return {
    ...(parsed.data.journalBreak ? { journalBreak: parsed.data.journalBreak } : {}),
    continuousObjects: new Set(parsed.data.objects.filter((o) => o.continuous === true).map((o) => o.name)),
  };
}
