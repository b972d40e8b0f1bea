/** `sfbackup coverage`: what the latest complete snapshot of an org holds, and what it leaves out and why. */
import { displayOrg } from '../../contract/org-id.ts';
import {
  type SkipReason,
  SKIP_REASONS,
  type SnapshotManifest,
} from '../../lambdas/core/snapshot/manifest.ts';
import { SnapshotReader } from '../../lambdas/core/snapshot/reader.ts';
import type { BackupStore } from '../../lambdas/core/store.ts';
import { describeProblems, type OptionSpecs, parseCommandLine } from './options.ts';
import { onlyOrg, orgToRead, readVaultOptions, VAULT_HELP } from './vault-read.ts';

const USAGE = `Usage: sfbackup coverage --store DIR [--org NAME] [--json]

Prints the coverage of an org from its latest complete snapshot with data (full or incremental):
each object exported with its rows in that snapshot, each object unchanged since the snapshot it
builds on, and each object left out with its reason (not-stored, derived, needs-filter,
not-queryable, excluded) and why. For an org with continuous protection, each object is marked
continuous (its change events are journaled) or snapshot only.

Options:
${VAULT_HELP}  --json                 print one JSON object
  -h, --help             show this help
`;

/** What `sfbackup coverage --json` prints. */
export interface Coverage {
  readonly org: string;
  readonly snapshotId: string;
  readonly mode: SnapshotManifest['mode'];
  readonly finishedAt: string;
  readonly exported: {
    readonly name: string;
    readonly rows: number;
    readonly api: string;
    readonly strategy: string;
    readonly watermarkField: string | null;
    /**
     * Whether the object's change events were on the org's Event Relay channel at the run (the
     * manifest's `continuous`); null when the snapshot does not say (the org is not continuous).
     */
    readonly continuous: boolean | null;
  }[];
  readonly unchanged: string[];
  /** Objects of the snapshot (exported or unchanged) it records as continuous; null when it records none. */
  readonly continuous: string[] | null;
  /** Objects left out; `reasonCode` is absent for snapshots written before the reasons were coded. */
  readonly skipped: { readonly name: string; readonly reasonCode?: SkipReason; readonly reason: string }[];
}

/** Reads the coverage of `org` (or the vault's only org) from its latest complete data snapshot. */
export async function readCoverage(store: BackupStore, org?: string): Promise<Coverage> {
  const key = org ?? (await onlyOrg(store));
  const reader = new SnapshotReader(store);
  const latest = await reader.latestComplete(key, { data: true });
  if (!latest) {
    throw new Error(
      `The vault holds no complete snapshot with data of org "${key}": run "sfbackup backup" first, or check --org.`,
    );
  }
  const manifest = await reader.manifest(key, latest.snapshotId);
  return {
    org: key,
    snapshotId: manifest.snapshotId,
    mode: manifest.mode,
    finishedAt: manifest.finishedAt,
    exported: manifest.objects
      .filter((o) => o.status === 'exported')
      .map((o) => ({
        name: o.name,
        rows: o.rows,
        api: o.api,
        strategy: o.strategy ?? 'all',
        // Manifests from before the field was recorded read changes by SystemModstamp when they had it.
        watermarkField:
          o.watermarkField !== undefined
            ? o.watermarkField
            : o.fields.some((f) => f.name === 'SystemModstamp')
              ? 'SystemModstamp'
              : null,
        continuous: o.continuous ?? null,
      })),
    unchanged: manifest.objects.filter((o) => o.status === 'unchanged').map((o) => o.name),
    continuous: manifest.objects.some((o) => o.continuous !== undefined)
      ? manifest.objects.filter((o) => o.continuous === true).map((o) => o.name)
      : null,
    skipped: manifest.skippedObjects.map((o) => ({
      name: o.name,
      ...(o.reasonCode ? { reasonCode: o.reasonCode } : {}),
      reason: o.reason,
    })),
  };
}

/** The coverage as text: totals, then each object exported, unchanged and skipped, by reason. */
export function describeCoverage(coverage: Coverage): string {
  const rows = coverage.exported.reduce((n, o) => n + o.rows, 0);
  const lines = [
    `Coverage of org ${displayOrg(coverage.org)} from snapshot ${coverage.snapshotId} (${coverage.mode}, finished ${coverage.finishedAt}):`,
    `  ${coverage.exported.length} exported (${rows} rows), ${coverage.unchanged.length} unchanged, ${coverage.skipped.length} skipped`,
  ];
  if (coverage.exported.length > 0) lines.push('  exported:');
  for (const o of coverage.exported) {
    const how = [o.api, o.strategy === 'all' ? undefined : o.strategy].filter(Boolean).join(', ');
    const watermark = o.watermarkField
      ? `changes by ${o.watermarkField}`
      : 'no watermark field: exported in full every run';
    const continuous =
      o.continuous === null ? '' : o.continuous ? '; continuous' : '; snapshot only, not continuous';
    lines.push(`    ${o.name}: ${o.rows} rows (${how}; ${watermark}${continuous})`);
  }
  if (coverage.unchanged.length > 0)
    lines.push(`  unchanged since the snapshot it builds on: ${coverage.unchanged.join(', ')}`);
  if (coverage.continuous !== null)
    lines.push(
      `  continuous (change events journaled after the snapshot): ${coverage.continuous.length > 0 ? coverage.continuous.join(', ') : 'none'}`,
    );
  const groups: (SkipReason | undefined)[] = [...SKIP_REASONS, undefined];
  for (const code of groups) {
    const members = coverage.skipped.filter((o) => o.reasonCode === code);
    if (members.length === 0) continue;
    lines.push(`  skipped, ${code ?? 'no reason code (an older snapshot)'} (${members.length}):`);
    for (const o of members) lines.push(`    ${o.name}: ${o.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const own = {} as const satisfies OptionSpecs;
  const { values, problems } = parseCommandLine('coverage', own, args);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const vault = readVaultOptions('coverage', values, problems);
  if (!vault) {
    process.stderr.write(describeProblems('coverage', problems, USAGE));
    return 2;
  }
  const coverage = await readCoverage(vault.store, await orgToRead(vault));
  process.stdout.write(values.json ? `${JSON.stringify(coverage)}\n` : describeCoverage(coverage));
  return 0;
}
