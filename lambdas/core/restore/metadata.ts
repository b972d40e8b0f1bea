import { MetadataDeployError, MetadataVerificationError } from './errors.ts';
import { compareComponentZips } from './metadata-verify.ts';
import type { RestoreOrg, SnapshotComponent, SnapshotView } from './model.ts';

/** Where a metadata restore stands between two calls. */
export interface MetadataProgress {
  /** The deploy under way, if any. */
  readonly deployId?: string;
  /** True while the validation (checkOnly) deploy runs; false once the real deploy started. */
  readonly checkOnly?: boolean;
  /** The retrieve that reads the deployed components back, once the deploy succeeded. */
  readonly retrieveId?: string;
  readonly done: boolean;
  /** Components deployed, once done. */
  readonly deployed?: number;
  /** One line on what the validation (and, after a deploy, the read-back) found, once done. */
  readonly report?: string;
}

/** Parses `Type:FullName` names into components. */
export function toComponents(names: readonly string[]): SnapshotComponent[] {
  return names.map((n) => {
    const i = n.indexOf(':');
    return { type: n.slice(0, i), fullName: n.slice(i + 1) };
  });
}

/**
 * Advances a metadata restore by one step: start a validation deploy (checkOnly), wait for it;
 * on a dry run stop there and report what it found. Otherwise start the real deploy, wait for
 * it, then retrieve the components and compare them with the snapshot's. A failed validation
 * stops before anything is saved; a read-back that differs fails the restore.
 */
export async function advanceMetadataRestore(args: {
  readonly org: RestoreOrg;
  readonly snapshot: SnapshotView;
  readonly components: readonly SnapshotComponent[];
  readonly progress: MetadataProgress;
  /** Validate only: nothing is saved, and a failed validation is reported rather than thrown. */
  readonly dryRun?: boolean;
}): Promise<MetadataProgress> {
  const { org, components, progress } = args;
  const names = components.map((c) => `${c.type}:${c.fullName}`).join(', ');
  if (components.length === 0) return { done: true, deployed: 0, report: 'no metadata to deploy' };
  if (progress.retrieveId) return readBack(args, progress.retrieveId, names);
  if (!progress.deployId) {
    const zip = await args.snapshot.componentZip(components);
    return { deployId: await org.deploy(zip, true), checkOnly: true, done: false };
  }
  const status = await org.deployStatus(progress.deployId);
  if (!status.done) return progress;
  if (!status.success) {
    const error = new MetadataDeployError(progress.checkOnly === true, status.failures);
    if (args.dryRun) return { done: true, deployed: 0, report: error.message };
    throw error;
  }
  if (progress.checkOnly) {
    if (args.dryRun) {
      return {
        done: true,
        deployed: 0,
        report: `The metadata validation (checkOnly) passed for ${names}; nothing was saved.`,
      };
    }
    const zip = await args.snapshot.componentZip(components);
    return { deployId: await org.deploy(zip, false), checkOnly: false, done: false };
  }
  return {
    deployId: progress.deployId,
    checkOnly: false,
    retrieveId: await org.retrieve(components),
    done: false,
  };
}

async function readBack(
  args: {
    readonly org: RestoreOrg;
    readonly snapshot: SnapshotView;
    readonly components: readonly SnapshotComponent[];
  },
  retrieveId: string,
  names: string,
): Promise<MetadataProgress> {
  const status = await args.org.retrieveStatus(retrieveId);
  if (!status.done) return { retrieveId, checkOnly: false, done: false };
  if (!status.success || !status.zip) {
    throw new MetadataVerificationError([
      `the retrieve that reads the deployed components back failed: ${status.errorMessage ?? 'no zip returned'}`,
    ]);
  }
  const expected = await args.snapshot.componentZip(args.components);
  const problems = compareComponentZips(expected, status.zip, args.components);
  if (problems.length > 0) throw new MetadataVerificationError(problems);
  return {
    retrieveId,
    checkOnly: false,
    done: true,
    deployed: args.components.length,
    report: `Metadata deployed and read back equal to the snapshot: ${names}.`,
  };
}
