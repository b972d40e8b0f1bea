/**
 * Synthesized definitions kept on disk between runs: synthesizing a CDK app takes seconds, and
 * what it yields depends only on the app's inputs (app key, org, bucket) and on the source files
 * that shape the definition. The key is a hash of all of them, so an edited construct, handler
 * entry or dependency misses the cache; a file that cannot be read back is ignored and rewritten;
 * files are written whole under a temporary name and renamed, so concurrent runs never read half a file.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SynthesizedTemplates } from './synthesize.ts';

/** The repository root, which the source paths below are relative to. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The files and folders whose content shapes a synthesized definition: the constructs, the
 * shared contract, the handlers' entry files (named in the template's metadata), the local apps
 * and synthesis code, and the locked dependency versions (aws-cdk-lib among them).
 */
export const DEFINITION_SOURCES = [
  'lib',
  'contract',
  'lambdas/handlers',
  'cli/commands/local-app.ts',
  'cli/local/synthesize.ts',
  'cli/local/template.ts',
  'package-lock.json',
] as const;

/** Bumped when the cached file's shape changes. */
const FORMAT = 1;

/** Where the cache lives: $SFBACKUP_CACHE_DIR, else $XDG_CACHE_HOME/sfbackup, else node_modules/.cache/sfbackup. */
export function definitionCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.SFBACKUP_CACHE_DIR) return env.SFBACKUP_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'sfbackup');
  return join(PROJECT_ROOT, 'node_modules', '.cache', 'sfbackup');
}

function filesUnder(path: string): string[] {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return [];
  if (stat.isFile()) return [path];
  if (!stat.isDirectory()) return [];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

/** A hash of the content (and relative path) of every file under `sources`, relative to `root`. */
export function sourcesDigest(root: string, sources: readonly string[] = DEFINITION_SOURCES): string {
  const hash = createHash('sha256');
  for (const source of sources) {
    for (const file of filesUnder(join(root, source))) {
      hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

/** The cache key of one app: what it is built from, and the digest of the sources that shape it. */
export function definitionCacheKey(inputs: readonly string[], digest: string): string {
  return createHash('sha256')
    .update(JSON.stringify([FORMAT, ...inputs, digest]))
    .digest('hex');
}

/** What a cache file holds, checked before use: anything else is treated as no file. */
function readCached(file: string, key: string): SynthesizedTemplates | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const entry = parsed as { format?: unknown; key?: unknown; templates?: Partial<SynthesizedTemplates> };
  const t = entry?.templates;
  if (
    entry?.format !== FORMAT ||
    entry.key !== key ||
    !t ||
    !Array.isArray(t.stacks) ||
    typeof t.stackName !== 'string' ||
    typeof t.stateMachineLogicalId !== 'string' ||
    typeof t.region !== 'string' ||
    typeof t.bucketNames !== 'object' ||
    !t.stacks.some((s) => s?.stackName === t.stackName && typeof s.template === 'object')
  ) {
    return undefined;
  }
  return t as SynthesizedTemplates;
}

/** Writes the file under a temporary name and renames it, so a reader sees all of it or nothing. */
function writeCached(dir: string, file: string, key: string, templates: SynthesizedTemplates): void {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(temporary, JSON.stringify({ format: FORMAT, key, templates }));
    renameSync(temporary, file);
  } catch {
    // The cache only saves time: a read-only or full disk leaves the run as it was.
    rmSync(temporary, { force: true });
  }
}

/** Whether a lookup found a usable file, for callers that report it. */
export type CacheOutcome = 'hit' | 'miss' | 'corrupt';

/**
 * The templates under `key` in `dir`, or `build()`'s, which are then written there. `onOutcome`
 * hears whether the file was there, absent, or unusable (and rewritten).
 */
export function cachedTemplates(
  dir: string,
  key: string,
  build: () => SynthesizedTemplates,
  onOutcome?: (outcome: CacheOutcome) => void,
): SynthesizedTemplates {
  const file = join(dir, `${key}.json`);
  const exists = statSync(file, { throwIfNoEntry: false }) !== undefined;
  const cached = exists ? readCached(file, key) : undefined;
  if (cached) {
    onOutcome?.('hit');
    return cached;
  }
  onOutcome?.(exists ? 'corrupt' : 'miss');
  const templates = build();
  writeCached(dir, file, key, templates);
  return templates;
}
