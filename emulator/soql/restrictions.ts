import { type ObjectDef, SalesforceError } from '../org/api.ts';
import type { Condition, Operator, Query } from './ast.ts';

type Compare = Extract<Condition, { kind: 'compare' | 'semijoin' }>;

/** The conditions joined by the WHERE's top-level AND (OR and NOT branches are not among them). */
function topLevelConditions(where: Condition | null): Compare[] {
  if (!where) return [];
  if (where.kind === 'and') return where.items.flatMap((c) => topLevelConditions(c));
  if (where.kind === 'compare' || where.kind === 'semijoin') return [where];
  return [];
}

function fieldName(c: Compare): string | null {
  return c.path.parts.length === 1 ? c.path.parts[0]!.toLowerCase() : null;
}

/** `=` with a non-null value, `IN (...)` or `IN (SELECT ...)`: what a key filter must use. */
function isKeyFilter(c: Compare): boolean {
  if (c.kind === 'semijoin') return !c.negated;
  if (c.op === 'IN') return true;
  return c.op === '=' && !Array.isArray(c.value) && (c.value as { kind: string }).kind !== 'null';
}

const RANGE: ReadonlySet<Operator> = new Set(['<', '<=', '>', '>=']);

/** True when the WHERE filters on a leading run of the index fields, as big objects require. */
function followsIndex(where: Condition | null, indexFields: readonly string[]): boolean {
  const conditions = topLevelConditions(where);
  if (!where || conditions.length === 0) return false;
  // Anything but a plain AND of comparisons (OR, NOT) cannot use the index.
  if (where.kind !== 'and' && where.kind !== 'compare') return false;
  const byField = new Map<string, Compare[]>();
  for (const c of conditions) {
    const name = fieldName(c);
    if (name === null || c.kind === 'semijoin') return false;
    byField.set(name, [...(byField.get(name) ?? []), c]);
  }
  const index = indexFields.map((f) => f.toLowerCase());
  if ([...byField.keys()].some((name) => !index.includes(name))) return false;
  const used = index.findIndex((f) => !byField.has(f));
  const run = used < 0 ? index.length : used;
  if (run === 0 || index.slice(run).some((f) => byField.has(f))) return false;
  let inCount = 0;
  for (let i = 0; i < run; i++) {
    for (const c of byField.get(index[i]!)!) {
      if (c.kind !== 'compare') return false;
      if (c.op === 'IN') inCount++;
      const last = i === run - 1;
      if (!(c.op === '=' || c.op === 'IN' || (last && RANGE.has(c.op)))) return false;
    }
  }
  return inCount <= 1;
}

/**
 * Throws the error Salesforce answers for a query that breaks the object's query restriction
 * (filter-required objects, Knowledge article versions, big objects, unreachable external objects).
 */
export function checkQueryRestriction(def: ObjectDef, ast: Query): void {
  const rule = def.queryRestriction;
  if (!rule) return;
  switch (rule.kind) {
    case 'unavailable':
      throw new SalesforceError(rule.errorCode, rule.message);
    case 'index':
      if (!followsIndex(ast.where, rule.indexFields))
        throw new SalesforceError('MALFORMED_QUERY', rule.message);
      return;
    case 'filter': {
      const equalsOnly = new Set((rule.equalsOnly ?? []).map((f) => f.toLowerCase()));
      const named = new Set<string>();
      for (const c of topLevelConditions(ast.where).filter(isKeyFilter)) {
        const name = fieldName(c);
        if (name === null) continue;
        if (equalsOnly.has(name) && !(c.kind === 'compare' && c.op === '=')) continue;
        named.add(name);
      }
      const ok = rule.allOf
        ? rule.allOf.every((f) => named.has(f.toLowerCase()))
        : (rule.anyOf ?? []).some((f) => named.has(f.toLowerCase()));
      if (!ok) throw new SalesforceError('MALFORMED_QUERY', rule.message);
      return;
    }
  }
}
