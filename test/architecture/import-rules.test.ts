import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Proves the layering rules in biome.json bite. Probe files go into a scratch copy of the
 * project's folder layout with the real biome.json, not into the working tree, so a lint or type
 * check running beside this test never sees them.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const BIOME = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');

/** A file that breaks a rule, and a phrase of the message that rule must print. */
const FORBIDDEN: ReadonlyArray<readonly [file: string, from: string, message: string]> = [
  ['contract/probe.ts', 'zod', 'contract/ is the one module every layer imports'],
  ['contract/probe.ts', '../lambdas/core/store.ts', 'contract/ is the one module every layer imports'],
  ['lib/probe.ts', '../lambdas/core/store.ts', 'lib/ and bin/ describe infrastructure'],
  [
    'lib/workflows/backup/probe.ts',
    '../../../lambdas/handlers/x.ts',
    'lib/ and bin/ describe infrastructure',
  ],
  ['lib/probe.ts', '../cli/local/run.ts', 'lib/ and bin/ never import cli/ or emulator/'],
  ['bin/probe.ts', '../emulator/index.ts', 'lib/ and bin/ never import cli/ or emulator/'],
  ['lambdas/handlers/probe.ts', 'aws-cdk-lib', 'lambdas/ is the Lambda runtime and never loads the CDK'],
  ['lambdas/adapters/probe.ts', 'constructs', 'lambdas/ is the Lambda runtime and never loads the CDK'],
  ['lambdas/core/probe.ts', 'cdk-nag', 'lambdas/ is the Lambda runtime and never loads the CDK'],
  ['lambdas/handlers/probe.ts', '../../lib/config.ts', 'lambdas/ never imports lib/ or bin/'],
  ['lambdas/core/backup/probe.ts', '../../../cli/main.ts', 'lambdas/ never imports cli/ or emulator/'],
  ['lambdas/adapters/probe.ts', '../../emulator/index.ts', 'lambdas/ never imports cli/ or emulator/'],
  ['lambdas/core/probe.ts', '@aws-sdk/client-s3', 'lambdas/core/ knows only interfaces'],
  ['lambdas/core/probe.ts', 'jsforce', 'lambdas/core/ knows only interfaces'],
  ['lambdas/core/probe.ts', '@aws-lambda-powertools/logger', 'lambdas/core/ knows only interfaces'],
  [
    'lambdas/core/restore/probe.ts',
    '../../adapters/s3-store.ts',
    'lambdas/core/ never imports lambdas/adapters/',
  ],
  ['lambdas/core/probe.ts', '../handlers/restore/deps.ts', 'lambdas/core/ never imports lambdas/adapters/'],
  [
    'lambdas/adapters/probe.ts',
    '../handlers/runtime.ts',
    'lambdas/adapters/ never imports lambdas/handlers/',
  ],
  ['emulator/server/probe.ts', '../../lambdas/core/store.ts', 'emulator/ stands in for Salesforce'],
  ['emulator/probe.ts', '../lib/config.ts', 'emulator/ stands in for Salesforce'],
  ['emulator/probe.ts', '../cli/main.ts', 'emulator/ stands in for Salesforce'],
];

/** Imports the layering allows, so the patterns are shown not to catch more than they should. */
const ALLOWED: ReadonlyArray<readonly [file: string, from: string]> = [
  ['lib/probe.ts', 'aws-cdk-lib/aws-stepfunctions'],
  ['lib/probe.ts', '../contract/workflow-contract.ts'],
  ['bin/probe.ts', '../lib/app.ts'],
  ['lambdas/handlers/probe.ts', '../adapters/s3-store.ts'],
  ['lambdas/handlers/probe.ts', '@aws-lambda-powertools/logger'],
  ['lambdas/adapters/probe.ts', '@aws-sdk/client-s3'],
  ['lambdas/adapters/probe.ts', '../core/store.ts'],
  ['lambdas/core/probe.ts', '../../contract/workflow-contract.ts'],
  ['lambdas/core/probe.ts', 'zod'],
  ['emulator/probe.ts', 'fflate'],
  ['cli/probe.ts', '../lambdas/handlers/runtime.ts'],
];

const LAYERING_RULES = ['lint/style/noRestrictedImports', 'lint/suspicious/noImportCycles'];

interface Diagnostic {
  readonly category: string;
  readonly message: string;
  readonly location: { readonly path: string };
}

describe('the linter enforces the layering', () => {
  let scratch: string;
  let diagnostics: Diagnostic[];

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'import-rules-'));
    copyFileSync(join(ROOT, 'biome.json'), join(scratch, 'biome.json'));
    // One probe file per case: a project folder is the only thing a rule keys on.
    const cases = [...FORBIDDEN.map(([f, from]) => [f, from] as const), ...ALLOWED];
    cases.forEach(([file, from], index) => {
      const path = join(scratch, file.replace(/probe\.ts$/, `probe-${index}.ts`));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `import { value } from '${from}';\nexport const probe = value;\n`);
    });
    // Two modules that import each other.
    writeFileSync(
      join(scratch, 'emulator', 'cycle-a.ts'),
      "import { b } from './cycle-b.ts';\nexport const a = () => b;\n",
    );
    writeFileSync(
      join(scratch, 'emulator', 'cycle-b.ts'),
      "import { a } from './cycle-a.ts';\nexport const b = () => a;\n",
    );
    // No --only: it would switch a rule on even where biome.json leaves it off.
    const result = spawnSync(
      process.execPath,
      [BIOME, 'lint', '--reporter=json', '--max-diagnostics=none', '.'],
      {
        cwd: scratch,
        encoding: 'utf8',
      },
    );
    diagnostics = (JSON.parse(result.stdout) as { diagnostics: Diagnostic[] }).diagnostics.filter((d) =>
      LAYERING_RULES.includes(d.category),
    );
  });

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const at = (file: string, index: number) =>
    diagnostics.filter((d) => d.location.path === file.replace(/probe\.ts$/, `probe-${index}.ts`));

  FORBIDDEN.forEach(([file, from, message], index) => {
    it(`refuses ${from} in ${dirname(file)}/ and says why`, () => {
      const found = at(file, index);
      expect(found.map((d) => d.category)).toContain('lint/style/noRestrictedImports');
      expect(found.map((d) => d.message).join('\n')).toContain(message);
    });
  });

  ALLOWED.forEach(([file, from], index) => {
    it(`allows ${from} in ${dirname(file)}/`, () => {
      expect(at(file, FORBIDDEN.length + index)).toEqual([]);
    });
  });

  it('refuses two modules that import each other', () => {
    const cycles = diagnostics.filter((d) => d.category === 'lint/suspicious/noImportCycles');
    expect(cycles.map((d) => d.location.path).sort()).toEqual(['emulator/cycle-a.ts', 'emulator/cycle-b.ts']);
  });
});
