import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLocalBackupApp } from '../../cli/commands/local-app.ts';
import {
  type CacheOutcome,
  cachedTemplates,
  definitionCacheDir,
  definitionCacheKey,
  sourcesDigest,
} from '../../cli/local/definition-cache.ts';
import {
  type SynthesizedTemplates,
  synthesizeDefinition,
  synthesizeTemplates,
  workflowFromTemplates,
} from '../../cli/local/index.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sfbackup-cache-test-'));
}

const TEMPLATES: SynthesizedTemplates = {
  stacks: [{ stackName: 'S', template: { Resources: {} } }],
  stackName: 'S',
  stateMachineLogicalId: 'Machine',
  region: 'us-east-1',
  bucketNames: {},
};

/** A cache lookup with a counting builder. */
function lookup(dir: string, key: string): { outcome: CacheOutcome | undefined; builds: number } {
  let builds = 0;
  let outcome: CacheOutcome | undefined;
  const templates = cachedTemplates(
    dir,
    key,
    () => {
      builds += 1;
      return TEMPLATES;
    },
    (o) => {
      outcome = o;
    },
  );
  expect(templates).toEqual(TEMPLATES);
  return { outcome, builds };
}

describe('the synthesized-definition cache', () => {
  it('builds once, then answers from the file', () => {
    const dir = tempDir();
    const key = definitionCacheKey(['backup', 'acme', ''], 'digest');
    expect(lookup(dir, key)).toEqual({ outcome: 'miss', builds: 1 });
    expect(lookup(dir, key)).toEqual({ outcome: 'hit', builds: 0 });
    // Nothing half-written is left behind.
    expect(readdirSync(dir)).toEqual([`${key}.json`]);
  });

  it('misses when a source file changes, or when the app is built from other inputs', () => {
    const root = tempDir();
    mkdirSync(join(root, 'lib'));
    writeFileSync(join(root, 'lib', 'workflow.ts'), 'export const a = 1;');
    writeFileSync(join(root, 'package-lock.json'), '{}');
    const sources = ['lib', 'package-lock.json'];
    const before = sourcesDigest(root, sources);
    expect(sourcesDigest(root, sources)).toBe(before);
    writeFileSync(join(root, 'lib', 'workflow.ts'), 'export const a = 2;');
    const after = sourcesDigest(root, sources);
    expect(after).not.toBe(before);

    const dir = tempDir();
    expect(lookup(dir, definitionCacheKey(['backup', 'acme', ''], before)).builds).toBe(1);
    expect(lookup(dir, definitionCacheKey(['backup', 'acme', ''], after))).toEqual({
      outcome: 'miss',
      builds: 1,
    });
    expect(lookup(dir, definitionCacheKey(['backup', 'other-org', ''], after)).builds).toBe(1);
    expect(lookup(dir, definitionCacheKey(['backup', 'acme', 'my-bucket'], after)).builds).toBe(1);
    expect(lookup(dir, definitionCacheKey(['restore\n', 'acme', ''], after)).builds).toBe(1);
    expect(lookup(dir, definitionCacheKey(['backup', 'acme', ''], after)).builds).toBe(0);
  });

  it('ignores a corrupt or foreign file and rewrites it', () => {
    const dir = tempDir();
    const key = definitionCacheKey(['backup', 'acme', ''], 'digest');
    const file = join(dir, `${key}.json`);
    for (const junk of [
      '{"format":1,"key":"',
      JSON.stringify({ format: 1, key, templates: { stacks: 'no' } }),
      '',
    ]) {
      writeFileSync(file, junk);
      expect(lookup(dir, key)).toEqual({ outcome: 'corrupt', builds: 1 });
      expect(JSON.parse(readFileSync(file, 'utf8')).templates).toEqual(TEMPLATES);
      expect(lookup(dir, key)).toEqual({ outcome: 'hit', builds: 0 });
    }
  });

  it('lives in $SFBACKUP_CACHE_DIR, else under $XDG_CACHE_HOME, else in node_modules/.cache', () => {
    expect(definitionCacheDir({ SFBACKUP_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(definitionCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'sfbackup'));
    expect(definitionCacheDir({})).toMatch(/node_modules[/\\]\.cache[/\\]sfbackup$/);
  });

  it('gives back, from the file, the same workflow a fresh synthesis gives', () => {
    const dir = tempDir();
    const key = definitionCacheKey(['backup', 'acme', ''], 'digest');
    const synthesize = () => {
      const app = buildLocalBackupApp('acme');
      return synthesizeTemplates(app.stack, app.workflow.stateMachine);
    };
    cachedTemplates(dir, key, synthesize);
    const fromDisk = workflowFromTemplates(cachedTemplates(dir, key, () => expect.fail('synthesized again')));
    const app = buildLocalBackupApp('acme');
    const fresh = synthesizeDefinition(app.stack, app.workflow.stateMachine);
    expect(fromDisk.definition).toEqual(fresh.definition);
    expect([...fromDisk.functions.keys()]).toEqual([...fresh.functions.keys()]);
    const [id] = fresh.functions.keys();
    expect(fromDisk.functions.get(id!)).toEqual(fresh.functions.get(id!));
    expect(fromDisk.findFunction(fresh.functions.get(id!)!.arn)?.logicalId).toBe(id);
  }, 60_000);
});
