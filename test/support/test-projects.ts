/**
 * Which test files start a server, for the Vitest projects in vitest.config.ts: `unit` runs
 * everything else, with no server and nothing to install. test/support/test-projects.test.ts
 * checks these lists against what each test file imports.
 */

/** Test files that start the org emulator or Salesforce's `sf` CLI (no system packages needed). */
export const EMULATOR_TESTS = [
  'test/local/continuous-diff.test.ts',
  'test/local/continuous-journal.test.ts',
  'test/backup/cli-backup.test.ts',
  'test/backup/e2e-content-links.test.ts',
  'test/backup/e2e-faults.test.ts',
  'test/backup/e2e-files-plan.test.ts',
  'test/backup/e2e-heartbeat.test.ts',
  'test/backup/e2e-history.test.ts',
  'test/backup/e2e-large-org.test.ts',
  'test/backup/e2e-parallel-export.test.ts',
  'test/backup/e2e-production-catalog.test.ts',
  'test/backup/e2e-sample-orgs.test.ts',
  'test/backup/jsforce-shortfalls.test.ts',
  'test/backup/salesforce-adapter.test.ts',
  'test/backup/salesforce-jsforce-apis.test.ts',
  'test/emulator/cdc-events.test.ts',
  'test/insight/*.test.ts',
  'test/emulator/cdc-relay-state.test.ts',
  'test/emulator/cdc-relay.test.ts',
  'test/emulator/metadata-jsforce.test.ts',
  'test/emulator/server-*.test.ts',
  'test/emulator/sf-cli.test.ts',
  'test/local/app-run.test.ts',
  'test/local/cli-continuous-check.test.ts',
  'test/local/policies-drill.test.ts',
  'test/restore/cli.test.ts',
  'test/restore/demo.test.ts',
  'test/restore/e2e-*.test.ts',
  'test/report/e2e-diff-report.test.ts',
  'test/retention/e2e-retention-workflow.test.ts',
  'test/erase/core-*.test.ts',
  'test/erase/e2e-*.test.ts',
  'test/erase/cli.test.ts',
  'test/resilience/campaign.test.ts',
];

/** Test files that start Ceph's radosgw, which test/support/install-ceph.sh provides. */
export const S3_TESTS = [
  'test/adapters/s3-store.test.ts',
  'test/backup/e2e-s3-vault.test.ts',
  'test/restore/s3-part-version.test.ts',
  'test/retention/s3-sweep.test.ts',
  'test/retention/s3-run-records.test.ts',
  'test/erase/s3-versions.test.ts',
  'test/erase/s3-replica.test.ts',
  'test/erase/s3-swept.test.ts',
];

/**
 * Test files that drive Debian's Chromium (test/support/install-chromium.sh provides it); they may
 * start the emulator too.
 */
export const BROWSER_TESTS = ['test/ui/browser.test.ts'];

/** Modules whose import, direct or through a test helper, means a test file starts a server. */
export const SERVER_MODULES = {
  emulator: ['emulator/index.ts', 'test/support/sf-cli.ts'],
  s3: ['test/support/radosgw.ts'],
  browser: ['test/support/chromium.ts'],
} as const;
