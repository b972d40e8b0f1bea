import type { ListOptions } from '../../lambdas/core/store.ts';

/** The keys under a prefix (after `options.afterKey`, when given), in key order, as a store lists them. */
export function keysListed(keys: Iterable<string>, prefix: string, options: ListOptions = {}): string[] {
  const after = options.afterKey;
  return [...keys].filter((k) => k.startsWith(prefix) && (after === undefined || k > after)).sort();
}

/** The names of the folders directly under a prefix that hold any of the keys, in key order. */
export function foldersListed(keys: Iterable<string>, prefix: string): string[] {
  const names = new Set<string>();
  for (const key of keys) {
    const rest = key.startsWith(prefix) ? key.slice(prefix.length) : '';
    if (rest.includes('/')) names.add(rest.slice(0, rest.indexOf('/')));
  }
  return [...names].sort();
}
