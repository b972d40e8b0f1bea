import { MetadataDeployError } from './errors.ts';
import type { RestoreOrg, SnapshotComponent, SnapshotView } from './model.ts';

/** Where a metadata restore stands between two calls. */
export interface MetadataProgress {
  /** The deploy under way, if any. */
  readonly deployId?: string;
  /** True while the validation (checkOnly) deploy runs; false once the real deploy started. */
  readonly checkOnly?: boolean;
  readonly done: boolean;
  /** Components deployed, once done. */
  readonly deployed?: number;
}

/** Parses `Type:FullName` names into components. */
export function toComponents(names: readonly string[]): SnapshotComponent[] {
  return names.map((n) => {
    const i = n.indexOf(':');
    return { type: n.slice(0, i), fullName: n.slice(i + 1) };
  });
}

/**
 * Advances a metadata restore by one step: start a validation deploy (checkOnly), wait for it,
 * then start the real deploy and wait for that. A failed validation stops before anything is
 * saved, with Salesforce's problem for every component.
 */
export async function advanceMetadataRestore(args: {
  readonly org: RestoreOrg;
  readonly snapshot: SnapshotView;
  readonly components: readonly SnapshotComponent[];
  readonly progress: MetadataProgress;
}): Promise<MetadataProgress> {
  const { org, components, progress } = args;
  if (components.length === 0) return { done: true, deployed: 0 };
  if (!progress.deployId) {
    const zip = await args.snapshot.componentZip(components);
    return { deployId: await org.deploy(zip, true), checkOnly: true, done: false };
  }
  const status = await org.deployStatus(progress.deployId);
  if (!status.done) return progress;
  if (!status.success) throw new MetadataDeployError(progress.checkOnly === true, status.failures);
  if (progress.checkOnly) {
    const zip = await args.snapshot.componentZip(components);
    return { deployId: await org.deploy(zip, false), checkOnly: false, done: false };
  }
  return { deployId: progress.deployId, checkOnly: false, done: true, deployed: components.length };
}
