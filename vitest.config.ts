import { defineConfig } from 'vitest/config';
import { BROWSER_TESTS, EMULATOR_TESTS, S3_TESTS } from './test/support/test-projects.ts';

// Four projects by what a test needs: `unit` nothing, `emulator` the org emulator or the sf CLI
// (both from npm), `s3` Ceph's radosgw and `browser` Chromium (both from Debian; each project's
// global setup installs its package when missing). `npm test` runs all four; `npm run test:unit`
// runs `unit` alone.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...EMULATOR_TESTS, ...S3_TESTS, ...BROWSER_TESTS],
        },
      },
      { extends: true, test: { name: 'emulator', include: EMULATOR_TESTS } },
      {
        extends: true,
        test: { name: 's3', include: S3_TESTS, globalSetup: ['test/support/ceph-global-setup.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: BROWSER_TESTS,
          globalSetup: ['test/support/chromium-global-setup.ts'],
        },
      },
    ],
  },
});
