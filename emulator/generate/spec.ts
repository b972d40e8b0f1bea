/** What to generate. */
export interface GenerateSpec {
  /** Number of custom objects. */
  readonly objects: number;
  /** Rows per custom object. */
  readonly rows: number;
  /** Files (ContentVersion with VersionData; every tenth also an Attachment). */
  readonly files: number;
  /** PRNG seed: the same spec always yields the same org. */
  readonly seed: number;
  /** Custom fields per object (at least the 12 kinds the generator cycles through). */
  readonly fields: number;
  /** Tasks and Events (half each) with polymorphic WhoId / WhatId. */
  readonly activities: number;
  /** Accounts, Contacts and Leads that activities and files point at. */
  readonly accounts: number;
  /**
   * 1: long text areas hold texts of 1 KB to 32 KB half the time; 0: only short values, for
   * narrow rows (millions of rows at a few hundred bytes each).
   */
  readonly longText: number;
}

/** Thrown for a spec that cannot be used; the message names the key and the allowed values. */
export class InvalidGenerateSpecError extends Error {
  override readonly name = 'InvalidGenerateSpecError';
}

const LIMITS: Record<
  keyof GenerateSpec,
  { min: number; max: number; fallback: (s: Partial<GenerateSpec>) => number }
> = {
  objects: { min: 0, max: 2000, fallback: () => 5 },
  rows: { min: 0, max: 10_000_000, fallback: () => 100 },
  files: { min: 0, max: 1_000_000, fallback: () => 0 },
  seed: { min: 0, max: 2 ** 32 - 1, fallback: () => 1 },
  fields: { min: 12, max: 500, fallback: () => 20 },
  activities: { min: 0, max: 10_000_000, fallback: (s) => Math.min(1000, s.rows ?? 100) },
  accounts: {
    min: 1,
    max: 1_000_000,
    fallback: (s) => Math.max(1, Math.min(500, Math.ceil((s.rows ?? 100) / 10))),
  },
  longText: { min: 0, max: 1, fallback: () => 1 },
};

const EXAMPLE = 'objects=50,rows=20000,files=100,seed=42';

/**
 * Parses a spec such as `objects=50,rows=20000,files=100,seed=42` (keys: objects, rows, files,
 * seed, fields, activities, accounts, longText; all optional). Every problem is reported at once.
 */
export function parseGenerateSpec(text: string): GenerateSpec {
  const problems: string[] = [];
  const given: Partial<Record<keyof GenerateSpec, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim() as keyof GenerateSpec;
    const raw = eq < 0 ? '' : part.slice(eq + 1).trim();
    const limit = LIMITS[key];
    if (!limit) {
      problems.push(`unknown key "${key}" (use ${Object.keys(LIMITS).join(', ')})`);
      continue;
    }
    if (key in given) problems.push(`"${key}" is given twice`);
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < limit.min || n > limit.max) {
      problems.push(`${key} must be a whole number from ${limit.min} to ${limit.max}, got "${raw}"`);
      continue;
    }
    given[key] = n;
  }
  if (problems.length) {
    throw new InvalidGenerateSpecError(
      `Invalid generate spec "${text}": ${problems.join('; ')}. Example: ${EXAMPLE}`,
    );
  }
  const spec: Partial<Record<keyof GenerateSpec, number>> = { ...given };
  for (const key of Object.keys(LIMITS) as Array<keyof GenerateSpec>) {
    spec[key] ??= LIMITS[key].fallback(spec);
  }
  return spec as GenerateSpec;
}
